"""PyTorch peer for `bench/train.ts`: one Grad-TTS decoder training step on the CPU.

The decoder is Grad-TTS's GradLogPEstimator2d (Popov et al. 2021), written out here from the paper's
architecture: dims (1, 2, 4)·dim, GroupNorm 8, Mish, ResnetBlock = [conv3×3 → GroupNorm → Mish] ×2 +
time-MLP + residual 1×1, Residual(Rezero(LinearAttention heads 4 × 32)), Downsample conv3×3 s2 p1,
Upsample ConvTranspose 4×4 s2 p1, mid blocks, final block + 1×1 conv, SinusoidalPosEmb (scale 1000)
→ Linear → Mish → Linear, masks. One step = sample t, diffuse x0 to x_t (VP-SDE, β 0.05..20),
predict the noise score, masked L2 noise-estimation loss, backward, Adam.

Usage: /usr/bin/python3 bench/peer/train_step.py [--dim 32] [--batch 4] [--frames 128] [--threads 1]
           [--reps 5] [--warmup 2]
Prints JSON {seconds_per_step, flops_per_step, times, threads, params} on its last line; seconds_per_step
is the median of `reps` timed steps after `warmup` untimed ones. flops_per_step = 3 × 2·MACs of every
conv / transposed conv / linear / attention einsum in the forward (counted by hooks).
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Mish(nn.Module):
    def forward(self, x):
        return x * torch.tanh(F.softplus(x))


class Rezero(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.g = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.fn(x) * self.g


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=8):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim_out, 3, padding=1), nn.GroupNorm(groups, dim_out), Mish())

    def forward(self, x, mask):
        return self.block(x * mask) * mask


class ResnetBlock(nn.Module):
    def __init__(self, dim, dim_out, time_emb_dim, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(Mish(), nn.Linear(time_emb_dim, dim_out))
        self.block1 = Block(dim, dim_out, groups)
        self.block2 = Block(dim_out, dim_out, groups)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()

    def forward(self, x, mask, t):
        h = self.block1(x, mask)
        h = h + self.mlp(t).unsqueeze(-1).unsqueeze(-1)
        h = self.block2(h, mask)
        return h + self.res_conv(x * mask)


FLOPS = {'attn': 0}


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=4, dim_head=32):
        super().__init__()
        self.heads = heads
        hidden = heads * dim_head
        self.to_qkv = nn.Conv2d(dim, hidden * 3, 1, bias=False)
        self.to_out = nn.Conv2d(hidden, dim, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        qkv = self.to_qkv(x).reshape(b, 3, self.heads, -1, h * w)
        q, k, v = qkv[:, 0], qkv[:, 1], qkv[:, 2]
        k = k.softmax(dim=-1)
        context = torch.einsum('bhdn,bhen->bhde', k, v)
        out = torch.einsum('bhde,bhdn->bhen', context, q)
        d = q.shape[2]
        FLOPS['attn'] += 2 * 2 * b * self.heads * d * d * h * w
        return self.to_out(out.reshape(b, -1, h, w))


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x, scale=1000):
        half = self.dim // 2
        emb = math.log(10000) / (half - 1)
        emb = torch.exp(torch.arange(half, device=x.device).float() * -emb)
        emb = scale * x.unsqueeze(1) * emb.unsqueeze(0)
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class GradLogPEstimator2d(nn.Module):
    def __init__(self, dim, dim_mults=(1, 2, 4), groups=8, pe_scale=1000):
        super().__init__()
        self.pe_scale = pe_scale
        dims = [2, *map(lambda m: dim * m, dim_mults)]
        in_out = list(zip(dims[:-1], dims[1:]))
        self.time_pos_emb = SinusoidalPosEmb(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), Mish(), nn.Linear(dim * 4, dim))
        self.downs = nn.ModuleList([])
        self.ups = nn.ModuleList([])
        for ind, (di, do) in enumerate(in_out):
            last = ind >= len(in_out) - 1
            self.downs.append(nn.ModuleList([
                ResnetBlock(di, do, dim), ResnetBlock(do, do, dim),
                Residual(Rezero(LinearAttention(do))),
                nn.Conv2d(do, do, 3, 2, 1) if not last else nn.Identity()]))
        mid = dims[-1]
        self.mid_block1 = ResnetBlock(mid, mid, dim)
        self.mid_attn = Residual(Rezero(LinearAttention(mid)))
        self.mid_block2 = ResnetBlock(mid, mid, dim)
        for di, do in reversed(in_out[1:]):
            self.ups.append(nn.ModuleList([
                ResnetBlock(do * 2, di, dim), ResnetBlock(di, di, dim),
                Residual(Rezero(LinearAttention(di))),
                nn.ConvTranspose2d(di, di, 4, 2, 1)]))
        self.final_block = Block(dim, dim)
        self.final_conv = nn.Conv2d(dim, 1, 1)

    def forward(self, x, mask, mu, t):
        t = self.mlp(self.time_pos_emb(t, scale=self.pe_scale))
        x = torch.stack([mu, x], 1)
        mask = mask.unsqueeze(1)
        hiddens, masks = [], [mask]
        for r1, r2, attn, down in self.downs:
            m = masks[-1]
            x = r1(x, m, t)
            x = r2(x, m, t)
            x = attn(x)
            hiddens.append(x)
            x = down(x * m)
            masks.append(m[:, :, :, ::2])
        masks = masks[:-1]
        m = masks[-1]
        x = self.mid_block1(x, m, t)
        x = self.mid_attn(x)
        x = self.mid_block2(x, m, t)
        for r1, r2, attn, up in self.ups:
            m = masks.pop()
            x = torch.cat((x, hiddens.pop()), dim=1)
            x = r1(x, m, t)
            x = r2(x, m, t)
            x = attn(x)
            x = up(x * m)
        x = self.final_block(x, mask)
        return (self.final_conv(x * mask) * mask).squeeze(1)


def count_forward_flops(model, args):
    """2·MACs of every conv, transposed conv and linear layer plus the attention einsums, one forward."""
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += 2 * out.numel() * mod.in_channels * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.ConvTranspose2d):
            total[0] += 2 * inp[0].numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    FLOPS['attn'] = 0
    with torch.no_grad():
        model(*args)
    for h in hs:
        h.remove()
    return total[0] + FLOPS['attn']


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dim', type=int, default=32)
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--frames', type=int, default=128)
    ap.add_argument('--mels', type=int, default=80)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = GradLogPEstimator2d(a.dim)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    B, M, T = a.batch, a.mels, a.frames
    x0 = torch.randn(B, M, T)
    mu = torch.randn(B, M, T)
    lengths = torch.tensor([T - 8 * i for i in range(B)])
    mask = (torch.arange(T)[None, :] < lengths[:, None]).float().unsqueeze(1)  # [B, 1, T]
    beta0, beta1 = 0.05, 20.0

    def step():
        t = torch.rand(B).clamp(1e-5, 1 - 1e-5)
        cum = (beta0 * t + 0.5 * (beta1 - beta0) * t * t)[:, None, None]
        mean = x0 * torch.exp(-0.5 * cum) + mu * (1 - torch.exp(-0.5 * cum))
        var = 1 - torch.exp(-cum)
        z = torch.randn_like(x0)
        xt = (mean + z * torch.sqrt(var)) * mask
        score = model(xt, mask, mu, t)
        loss = torch.sum((score * torch.sqrt(var) + z) ** 2 * mask) / (torch.sum(mask) * M)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    fwd = count_forward_flops(model, (x0, mask, mu, torch.rand(B)))
    for _ in range(a.warmup):
        step()
    times, cpu_times = [], []
    for _ in range(a.reps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)  # all threads' CPU seconds: steadier on a shared machine
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({'seconds_per_step': statistics.median(times), 'flops_per_step': 3 * fwd,
                      'forward_flops': fwd, 'times': times, 'cpu_times': cpu_times, 'threads': a.threads, 'params': params,
                      'torch': torch.__version__}))


if __name__ == '__main__':
    main()
