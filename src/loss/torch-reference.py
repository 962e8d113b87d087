"""Writes torch-reference.json: PyTorch 1.13 (Debian python3-torch) values and autograd gradients of
the element-wise losses, as an independent reference for elementwise.test.ts.
huber uses torch.nn.functional.huber_loss; the pseudo-Huber family is the diffusers/kohya formula
evaluated in float64 by torch (naive form: float64 has no cancellation problem at these δ).
Run: /usr/bin/python3 src/loss/torch-reference.py
"""
import json, os
import torch
import torch.nn.functional as F

r_values = [-30.0, -4.0, -1.5, -0.7, -0.2, -0.01, 0.0, 0.03, 0.4, 0.9, 1.0, 2.5, 12.0]
deltas = [0.05, 0.5, 1.0, 3.0]
out = {"torch": torch.__version__, "r": r_values, "delta": deltas, "loss": {}, "grad": {}}

def forms(r, d):
    s = torch.sqrt(r * r + d * d) - d
    return {
        "l2": r * r,
        "l1": r.abs(),
        "huber": F.huber_loss(r, torch.zeros_like(r), reduction="none", delta=d),
        "pseudo-huber": 2 * d * s,
        "pseudo-huber-lcm": s,
        "smooth-l1": 2 * s,
    }

for d in deltas:
    r = torch.tensor(r_values, dtype=torch.float64, requires_grad=True)
    for name, v in forms(r, d).items():
        g, = torch.autograd.grad(v.sum(), r, retain_graph=True)
        out["loss"].setdefault(name, []).append(v.detach().tolist())
        out["grad"].setdefault(name, []).append(g.tolist())

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch-reference.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
