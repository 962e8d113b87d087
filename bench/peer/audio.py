"""Peer for bench/audio.ts: the same log-mel and fast Griffin-Lim with PyTorch + torchaudio.

Log-mel (HiFi-GAN / Grad-TTS): int16/32768, reflect pad (n_fft-hop)/2, torch.stft(center=False)
with a periodic Hann window, magnitude sqrt(re^2 + im^2 + 1e-9), torchaudio.functional.melscale_fbanks
(norm='slaney', mel_scale='slaney'), log(clamp(min=1e-5)).
Griffin-Lim: torchaudio.transforms.GriffinLim(n_fft=1024, hop=256, power=1, momentum=0.99, n_iter=32)
on the linear magnitude of the fixture.

Single thread (torch.set_num_threads(1)) so the comparison with single-threaded JS is like for like.
Timings cover the computation only (audio already in memory, filterbank and window built once),
median of `reps` after `warmup` runs, both wall-clock and CPU time of this process (the latter is
steadier on a shared machine). Prints one JSON line: {"mel:<name>": s, "mel_cpu:<name>": s, ...,
"gl:<name>": s, "gl_cpu:<name>": s,
"mel_maxdiff:<name>": max |log-mel - reference| on bins above the floor}.

usage: audio.py REPS WAV [WAV ...]   (each WAV's reference mel is WAV with .wav -> .mel.npy)
"""
import json
import statistics
import sys
import time
import wave

import numpy as np
import torch
import torchaudio

torch.set_num_threads(1)

N_FFT, HOP, N_MELS, SR, FMAX = 1024, 256, 80, 22050, 8000.0


def read_int16(path):
    with wave.open(path, "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return torch.from_numpy(data.astype(np.float32) / 32768.0)


WINDOW = torch.hann_window(N_FFT, periodic=True)
FB = torchaudio.functional.melscale_fbanks(N_FFT // 2 + 1, 0.0, FMAX, N_MELS, SR, norm="slaney", mel_scale="slaney")  # [bins, mels]
FB_T = FB.T.contiguous()  # [mels, bins]


def log_mel(x):
    pad = (N_FFT - HOP) // 2
    y = torch.nn.functional.pad(x[None, None], (pad, pad), mode="reflect")[0, 0]
    spec = torch.stft(y, N_FFT, hop_length=HOP, win_length=N_FFT, window=WINDOW, center=False, return_complex=True)
    ri = torch.view_as_real(spec)
    mag = torch.sqrt(ri.pow(2).sum(-1) + 1e-9)  # [bins, frames]
    return torch.log(torch.clamp(FB_T @ mag, min=1e-5))  # [mels, frames]


def timeit(fn, reps, warmup=2):
    """(median wall seconds, median CPU seconds of this process)."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main():
    reps = int(sys.argv[1])
    result = {}
    for path in sys.argv[2:]:
        name = path.rsplit("/", 1)[-1].removesuffix(".wav")
        x = read_int16(path)
        ref = torch.from_numpy(np.load(path[: -len(".wav")] + ".mel.npy"))
        mel = log_mel(x)
        keep = ref > float(np.log(1e-5)) + 1e-6
        result[f"mel_maxdiff:{name}"] = float((mel - ref).abs()[keep].max())
        with torch.no_grad():
            result[f"mel:{name}"], result[f"mel_cpu:{name}"] = timeit(lambda: log_mel(x), reps * 4)
    # Griffin-Lim on the first file's linear magnitude (centered STFT, as GriffinLim expects)
    x = read_int16(sys.argv[2])
    name = sys.argv[2].rsplit("/", 1)[-1].removesuffix(".wav")
    gl = torchaudio.transforms.GriffinLim(n_fft=N_FFT, n_iter=32, hop_length=HOP, power=1.0, momentum=0.99)
    mag = torch.stft(x, N_FFT, hop_length=HOP, window=WINDOW, center=True, return_complex=True).abs()
    with torch.no_grad():
        result[f"gl:{name}"], result[f"gl_cpu:{name}"] = timeit(lambda: gl(mag), reps, warmup=1)
    result["threads"] = torch.get_num_threads()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
