"""Train ember's VAE (784-400-20) or DCGAN with PyTorch DDP on many processes or machines, and
write a safetensors file that `ember import` turns into an ember sampler (or model) file.

    torchrun --standalone --nproc_per_node 2 python/train_ddp.py --model vae --data DIR \\
        --epochs 10 --out vae.safetensors
    ember import vae.safetensors --out vae.ember
    ember export --model vae.ember --c-array vae_sampler --out vae_sampler.h   # or: ember sample

On Debian 12 (torch 1.13, Python 3.11) torchrun itself fails before starting any process
(AttributeError in to_map) unless given `--redirects 1 --tee 1`: its default "0" no longer
parses under Python 3.11's enum flags. Newer torch releases need no such flags.

Data: the IDX training images in DIR (train-images-idx3-ubyte, .gz or not: MNIST, Fashion-MNIST).
Backend: NCCL when CUDA is there, gloo on CPUs. Each process takes its share of every epoch
(DistributedSampler); --batch is per process, so the global batch is batch x world size.
Without torchrun it runs as a single process. The networks are python/ember_torch.py's twins,
so the names and layouts are ember's; the objectives are ember's too (the VAE's negative ELBO
per image, the DCGAN's non-saturating BCE), its schedule options (unroll, topk, ema, ...) are not.
"""
import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ember_torch as et  # noqa: E402

IMAGE_FILES = ("train-images-idx3-ubyte", "train-images-idx3-ubyte.gz")


def parse_args():
    a = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    a.add_argument("--model", choices=("vae", "dcgan"), required=True)
    a.add_argument("--data", required=True, help="folder with the IDX training images")
    a.add_argument("--out", required=True, help="safetensors file to write (rank 0)")
    a.add_argument("--part", choices=("sampler", "model"), default="sampler",
                   help="sampler: the decoder / G only, what a board needs; model: everything")
    a.add_argument("--epochs", type=int, default=1)
    a.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    a.add_argument("--batch", type=int, default=0, help="per process (default: vae 128, dcgan 64)")
    a.add_argument("--lr", type=float, default=0.0, help="Adam rate (default: vae 1e-3, dcgan 2e-4)")
    a.add_argument("--latent", type=int, default=20, help="vae latent dimensions")
    a.add_argument("--widths", default="400", help="vae hidden widths")
    a.add_argument("--z", type=int, default=100, help="dcgan noise dimensions")
    a.add_argument("--channels", default="64,128", help="dcgan channels c1,c2")
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--log-every", type=int, default=50)
    return a.parse_args()


def setup():
    """(rank, world, device): a process group when launched by torchrun, else one process."""
    if "RANK" not in os.environ:
        return 0, 1, torch.device("cpu")
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    local = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local)
    return dist.get_rank(), dist.get_world_size(), torch.device("cuda", local) if cuda else torch.device("cpu")


def load_images(folder):
    for name in IMAGE_FILES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            x = et.load_idx(path)
            if x.dim() != 3:
                raise ValueError("%s: want [n, rows, cols] images, got %s" % (path, list(x.shape)))
            return x.float().div_(255.0)  # ember's pixels: [0, 1]
    raise FileNotFoundError("%s: none of %s" % (folder, ", ".join(IMAGE_FILES)))


def wrap(module, world, device):
    module.to(device)
    if world == 1:
        return module
    return DDP(module, device_ids=[device.index] if device.type == "cuda" else None)


class VaeStep:
    """The negative ELBO per image (ember's loss), one Adam step per batch."""

    def __init__(self, args, rows, cols, world, device):
        text = "kind=vae arch=mlp rows=%d cols=%d widths=%s latent=%d" % (rows, cols, args.widths, args.latent)
        self.twin = et.model_from_config(text).train()
        self.net = wrap(self.twin, world, device)
        self.opt = torch.optim.Adam(self.twin.parameters(), lr=args.lr or 1e-3)

    def __call__(self, x):
        # DDP hooks the module's forward, so the loss goes through it (not twin.loss directly).
        loss = self.net(x)["loss"]
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return "loss %.2f" % loss.item()


class DcganStep:
    """ember's DCGAN game: D on real then on fake (separate BatchNorm batches, as ember does),
    G with the non-saturating loss; Adam(lr, beta1 0.5)."""

    def __init__(self, args, rows, cols, world, device):
        text = "kind=dcgan rows=%d cols=%d z_dim=%d channels=%s" % (rows, cols, args.z, args.channels)
        self.twin = et.dcgan_init(et.model_from_config(text)).train()
        self.g, self.d = wrap(self.twin.g, world, device), wrap(self.twin.d, world, device)
        lr = args.lr or 2e-4
        self.opt_g = torch.optim.Adam(self.twin.g.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.twin.d.parameters(), lr=lr, betas=(0.5, 0.999))
        self.z_dim, self.device = args.z, device

    def bce(self, x, target):
        logit = self.d(x)[0]
        return F.binary_cross_entropy_with_logits(logit, torch.full_like(logit, target))

    def __call__(self, x):
        real = x.reshape(-1, 1, self.twin.cfg["rows"], self.twin.cfg["cols"]) * 2.0 - 1.0  # to G's [-1, 1]
        z = torch.randn(real.shape[0], self.z_dim, device=self.device)
        # D: one backward per D forward, so DDP sees each parameter's gradient once per pass;
        # the two gradients add up to that of BCE(real, 1) + BCE(fake, 0).
        self.opt_d.zero_grad(set_to_none=True)
        d_real = self.bce(real, 1.0)
        d_real.backward()
        fake = self.g(z)
        d_fake = self.bce(fake.detach(), 0.0)
        d_fake.backward()
        self.opt_d.step()
        # G: through D (D's gradients are computed and dropped).
        self.opt_g.zero_grad(set_to_none=True)
        g_loss = self.bce(fake, 1.0)
        g_loss.backward()
        self.opt_g.step()
        return "d %.3f  g %.3f" % ((d_real + d_fake).item(), g_loss.item())


def main():
    args = parse_args()
    rank, world, device = setup()
    torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    if device.type == "cpu":
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world))
    images = load_images(args.data)
    n, rows, cols = images.shape
    step_fn = (VaeStep if args.model == "vae" else DcganStep)(args, rows, cols, world, device)
    batch = args.batch or (128 if args.model == "vae" else 64)
    data = TensorDataset(images.reshape(n, rows * cols))
    sampler = DistributedSampler(data, world, rank, shuffle=True, seed=args.seed, drop_last=True) if world > 1 else None
    loader = DataLoader(data, batch_size=batch, sampler=sampler, shuffle=sampler is None, drop_last=True)
    if rank == 0:
        print("train_ddp: %s on %d images %dx%d, %d process(es) on %s, batch %d per process"
              % (args.model, n, rows, cols, world, device, batch), flush=True)
    step, start = 0, time.time()
    for epoch in range(args.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for (x,) in loader:
            line = step_fn(x.to(device))
            step += 1
            if rank == 0 and (step % args.log_every == 0 or step == 1):
                print("epoch %d step %d  %s  (%.1f s)" % (epoch + 1, step, line, time.time() - start), flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        if args.max_steps and step >= args.max_steps:
            break
    if rank == 0:
        twin = step_fn.twin.cpu().eval()
        et.to_safetensors(twin, args.out, part=args.part)
        print("wrote %s (%s part, %d steps, %.1f s): `ember import %s --out FILE.ember`"
              % (args.out, args.part, step, time.time() - start, args.out), flush=True)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
