#!/usr/bin/python3
"""dcgan-torch-quality.py: the peer for sample quality. PyTorch trains WORKLOADS.md's D (the
DCGAN for 28x28 images) on MNIST and writes 10,000 samples every few epochs as raw float32
in [0, 1], for ember to score with the same classifier as its own generators:

  /usr/bin/python3 examples/bench/dcgan-torch-quality.py --data ../shared/data/mnist \\
      --epochs 16 --every 4 --out runs/torch-dcgan
  build/ember eval --samples runs/torch-dcgan/e16.f32 --classifier runs/mnist-clf.ember \\
      --data ../shared/data/mnist

The loop is PyTorch's DCGAN example's: one D update on a real and a fake batch, then one G
update on the same fakes (ember draws fresh noise for the G update; same distribution).
Init N(0, 0.02) for every conv, transposed conv and linear weight, biases 0, BatchNorm at
PyTorch's defaults; Adam 2e-4, betas (0.5, 0.999); batch 64; no weight averaging. Samples
come from G in evaluation mode (BatchNorm running statistics), like ember's sampler.
Needs Debian's python3-torch (apt-get install python3-torch); a benchmark script only.
"""
import argparse
import gzip
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn

Z_DIM, BATCH, SAMPLES = 100, 64, 10000


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find_images(folder):
    for name in ('train-images-idx3-ubyte.gz', 'train-images-idx3-ubyte'):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f'no train-images-idx3-ubyte[.gz] in {folder} (see ../shared/data/)')


def networks():
    g = nn.Sequential(
        nn.Linear(Z_DIM, 128 * 7 * 7), nn.BatchNorm1d(128 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (128, 7, 7)),
        nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(128 * 7 * 7, 1))
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            nn.init.zeros_(m.bias)
    return g, d


def write_samples(g, z, path):
    g.eval()
    with torch.no_grad():
        out = torch.cat([g(z[i:i + 500]) for i in range(0, z.shape[0], 500)])
    g.train()
    ((out.reshape(z.shape[0], -1) + 1) / 2).clamp(0, 1).numpy().astype(np.float32).tofile(path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', required=True, help='directory with the MNIST IDX files')
    p.add_argument('--epochs', type=int, default=16)
    p.add_argument('--every', type=int, default=4, help='write samples every N epochs (and after the last)')
    p.add_argument('--out', default='torch-dcgan', help='directory for eN.f32')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--limit', type=int, default=0, help='train on the first N images only (0: all; for a quick try)')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    x = torch.from_numpy(read_idx(find_images(a.data)).astype(np.float32) / 127.5 - 1.0).unsqueeze(1)
    if a.limit > 0:
        x = x[:a.limit]
    g, d = networks()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    z_fixed = torch.randn(SAMPLES, Z_DIM, generator=torch.Generator().manual_seed(a.seed + 1000))
    for epoch in range(1, a.epochs + 1):
        start, sums, steps = time.time(), np.zeros(4), 0
        order = torch.randperm(x.shape[0])
        for i in range(0, x.shape[0] - BATCH + 1, BATCH):
            real = x[order[i:i + BATCH]]
            fake = g(torch.randn(BATCH, Z_DIM))
            real_logit, fake_logit = d(real), d(fake.detach())
            d_loss = bce(real_logit, ones) + bce(fake_logit, zeros)
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            g_loss = bce(d(fake), ones)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            sums += [d_loss.item(), g_loss.item(), torch.sigmoid(real_logit).mean().item(),
                     torch.sigmoid(fake_logit).mean().item()]
            steps += 1
        m = sums / steps
        print(f'epoch {epoch}/{a.epochs}  D {m[0]:.4f}  G {m[1]:.4f}  D(x) {m[2]:.3f}  D(G(z)) {m[3]:.3f}  '
              f'{time.time() - start:.1f} s', flush=True)
        if epoch % a.every == 0 or epoch == a.epochs:
            write_samples(g, z_fixed, os.path.join(a.out, f'e{epoch}.f32'))


if __name__ == '__main__':
    main()
