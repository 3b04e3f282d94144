"""The peer kwgan is timed against: what a PyTorch user writes instead of kwgan.

Plain eager PyTorch WGAN-GP (Gulrajani et al. 2017) with the paper's DCGAN of
`gan_64x64.py` (dim 64, 5×5 kernels, layer norm in the critic, Adam 1e-4 with β = (0, 0.9),
λ = 10, 5 critic iterations per generator iteration, batch 64); `--size 32` gives the
32×32 network of `gan_cifar.py` (with `--critic_norm none`, as that script has under the
penalty), `--arch infogan` compare_gan's InfoGAN pair for 28×28×1 (Lucic et al. 2018;
latent 64, no normalisation in the critic under the penalty) and `--arch mlp` the 3 × 512
ReLU MLPs of `gan_toy.py` on 2-D points (batch 256).
Times generator iterations per second on synthetic data (the data pipeline is not part of
the measurement) and prints one JSON line. `benchmarks/speed.py` runs it beside kwgan.

Vendored from the team's `torch_wgangp_dcgan64.py` and extended with `--arch mlp`,
`--channels`, `--critic_norm`, `--bf16` (`torch.autocast` in bfloat16, the penalty in
float32, as kwgan's `mixed_bfloat16`) and the peak memory in its JSON line.

    python benchmarks/torch_peer.py [--device cuda|cpu] [--iters N] [--batch 64] [--bf16]

(`--compile` fails: torch.compile does not support the double backward of the penalty.)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import time

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry


class LayerNorm2d(nn.Module):
    """Normalise over (C, H, W) per sample, per-channel scale and offset (tflib Layernorm).

    In float32 also under autocast, as torch's own `layer_norm` is."""

    def __init__(self, c: int):
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, c, 1, 1))
        self.b = nn.Parameter(torch.zeros(1, c, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()
        m = x.mean(dim=(1, 2, 3), keepdim=True)
        v = x.var(dim=(1, 2, 3), keepdim=True, unbiased=False)
        return (x - m) / torch.sqrt(v + 1e-5) * self.g + self.b


def generator(dim: int, z_dim: int, size: int, channels: int) -> nn.Module:
    n_up = {64: 4, 32: 3}[size]
    base = 2 ** (n_up - 1)
    layers = [
        nn.Linear(z_dim, 4 * 4 * base * dim),
        nn.Unflatten(1, (base * dim, 4, 4)),
        nn.BatchNorm2d(base * dim),
        nn.ReLU(),
    ]
    c = base * dim
    for _ in range(n_up - 1):
        layers += [
            nn.ConvTranspose2d(c, c // 2, 5, 2, padding=2, output_padding=1),
            nn.BatchNorm2d(c // 2),
            nn.ReLU(),
        ]
        c //= 2
    layers += [nn.ConvTranspose2d(c, channels, 5, 2, padding=2, output_padding=1), nn.Tanh()]
    return nn.Sequential(*layers)


def critic(dim: int, size: int, channels: int, norm: str) -> nn.Module:
    n_down = {64: 4, 32: 3}[size]
    layers, c_in, c = [], channels, dim
    for i in range(n_down):
        layers += [nn.Conv2d(c_in, c, 5, 2, padding=2)]
        if i > 0 and norm == "layer":
            layers += [LayerNorm2d(c)]
        layers += [nn.LeakyReLU(0.2)]
        c_in, c = c, c * 2
    layers += [nn.Flatten(), nn.Linear(c_in * 4 * 4, 1)]
    return nn.Sequential(*layers)


def infogan_generator(dim: int, z_dim: int, size: int, channels: int) -> nn.Module:
    """compare_gan's `AbstractGAN.generator`: two dense layers, two 4×4/2 deconvolutions."""
    start = size // 4
    return nn.Sequential(
        nn.Linear(z_dim, 16 * dim),
        nn.BatchNorm1d(16 * dim),
        nn.ReLU(),
        nn.Linear(16 * dim, start * start * 2 * dim),
        nn.BatchNorm1d(start * start * 2 * dim),
        nn.ReLU(),
        nn.Unflatten(1, (2 * dim, start, start)),
        nn.ConvTranspose2d(2 * dim, dim, 4, 2, padding=1),
        nn.BatchNorm2d(dim),
        nn.ReLU(),
        nn.ConvTranspose2d(dim, channels, 4, 2, padding=1),
        nn.Tanh(),
    )


def infogan_critic(dim: int, size: int, channels: int) -> nn.Module:
    """compare_gan's `AbstractGAN.discriminator` without batch norm (off under a penalty)
    and without the sigmoid (a critic's score is unbounded)."""
    return nn.Sequential(
        nn.Conv2d(channels, dim, 4, 2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(dim, 2 * dim, 4, 2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(2 * dim * (size // 4) ** 2, 16 * dim),
        nn.LeakyReLU(0.2),
        nn.Linear(16 * dim, 1),
    )


def mlp(n_in: int, n_out: int, dim: int, depth: int = 3) -> nn.Module:
    """`gan_toy.py`'s networks: `depth` ReLU layers of width `dim`, linear output."""
    layers, width = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(width, dim), nn.ReLU()]
        width = dim
    return nn.Sequential(*layers, nn.Linear(width, n_out))


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--arch", choices=["dcgan", "infogan", "mlp"], default="dcgan")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--dim", type=int, default=None, help="64 (dcgan), 512 (mlp)")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--channels", type=int, default=3)
    ap.add_argument("--critic_norm", choices=["layer", "none"], default="layer")
    ap.add_argument("--batch", type=int, default=None, help="64 (dcgan), 256 (mlp)")
    ap.add_argument("--z", type=int, default=None, help="128 (dcgan), 64 (infogan), 2 (mlp)")
    ap.add_argument("--critic_iters", type=int, default=5)
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--tf32", action="store_true")
    ap.add_argument("--bf16", action="store_true")
    a = ap.parse_args()
    is_mlp = a.arch == "mlp"
    a.dim = a.dim or (512 if is_mlp else 64)
    a.batch = a.batch or (256 if is_mlp else 64)
    a.z = a.z or {"mlp": 2, "infogan": 64}.get(a.arch, 128)
    return a


def networks(a: argparse.Namespace) -> tuple[nn.Module, nn.Module, tuple[int, ...]]:
    """(generator, critic, shape of one real sample)."""
    if a.arch == "mlp":
        return mlp(a.z, 2, a.dim), mlp(2, 1, a.dim), (2,)
    if a.arch == "infogan":
        return (
            infogan_generator(a.dim, a.z, a.size, a.channels),
            infogan_critic(a.dim, a.size, a.channels),
            (a.channels, a.size, a.size),
        )
    return (
        generator(a.dim, a.z, a.size, a.channels),
        critic(a.dim, a.size, a.channels, a.critic_norm),
        (a.channels, a.size, a.size),
    )


def peak_memory(dev: torch.device) -> dict:
    """Peak host RSS and, on a GPU, peak allocated device memory, in bytes."""
    return {
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "peak_device_bytes": torch.cuda.max_memory_allocated(dev) if dev.type == "cuda" else None,
    }


class FlopCount(TorchDispatchMode):
    """Counts the floating-point operations of the ATen ops run inside it, with PyTorch's
    own per-op formulas (`torch.utils.flop_counter.flop_registry`: matrix products and
    convolutions, forward and backward). `FlopCounterMode` itself cannot be used: its
    per-module tracking fails inside the penalty's `autograd.grad`."""

    def __init__(self):
        super().__init__()
        self.flop = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        count = flop_registry.get(func._overloadpacket)
        if count is not None:
            self.flop += count(*args, **kwargs, out_val=out)
        return out


def iteration_tflop(iteration) -> float:
    """TFLOP of one generator iteration, counted as it runs: the forward passes, the
    penalty's double backward and the backward passes (elementwise ops and the optimizer
    updates are not counted, as is usual)."""
    with FlopCount() as counter:
        iteration(0)
    return counter.flop / 1e12


def main():
    a = parse_args()
    dev = torch.device(a.device)
    torch.manual_seed(0)
    torch.backends.cuda.matmul.allow_tf32 = a.tf32
    torch.backends.cudnn.allow_tf32 = a.tf32
    G, D, shape = networks(a)
    G, D = G.to(dev), D.to(dev)
    og = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    od = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
    real_pool = torch.rand(8, a.batch, *shape, device=dev) * 2 - 1
    eps_shape = (a.batch,) + (1,) * len(shape)

    def autocast():
        if not a.bf16:
            return contextlib.nullcontext()
        return torch.autocast(dev.type, dtype=torch.bfloat16)

    def critic_step(real):
        with autocast():
            z = torch.randn(a.batch, a.z, device=dev)
            with torch.no_grad():
                fake = G(z).float()
            eps = torch.rand(eps_shape, device=dev)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            d_hat = D(x_hat).float()
            (grad,) = torch.autograd.grad(d_hat.sum(), x_hat, create_graph=True)
            # The penalty in float32: x_hat is float32, so its gradient is too.
            gp = ((grad.float().flatten(1).norm(dim=1) - 1) ** 2).mean()
            loss = D(fake).float().mean() - D(real).float().mean() + 10.0 * gp
        od.zero_grad(set_to_none=True)
        loss.backward()
        od.step()
        return loss

    def gen_step():
        with autocast():
            z = torch.randn(a.batch, a.z, device=dev)
            loss = -D(G(z)).float().mean()
        og.zero_grad(set_to_none=True)
        loss.backward()
        og.step()
        return loss

    if a.compile:
        critic_step = torch.compile(critic_step)
        gen_step = torch.compile(gen_step)

    def iteration(k):
        for j in range(a.critic_iters):
            dl = critic_step(real_pool[(k * a.critic_iters + j) % 8])
        gl = gen_step()
        return dl, gl

    tflop = iteration_tflop(iteration)  # before timing: its dispatch mode is slow
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    for k in range(a.warmup):
        iteration(k)
    sync()
    t = time.perf_counter()
    for k in range(a.iters):
        dl, gl = iteration(k)
    float(dl.detach())
    sync()
    dt = time.perf_counter() - t
    res = {
        "peer": f"torch-wgangp-{a.arch}",
        "device": str(dev),
        "compile": a.compile,
        "tf32": a.tf32,
        "bf16": a.bf16,
        "arch": a.arch,
        "size": a.size,
        "channels": a.channels,
        "critic_norm": a.critic_norm,
        "dim": a.dim,
        "batch": a.batch,
        "gen_iters_per_s": a.iters / dt,
        "tflop_per_iter": tflop,
        "final_losses": [float(dl.detach()), float(gl.detach())],
        "torch": torch.__version__,
        **peak_memory(dev),
    }
    print(json.dumps(res))


if __name__ == "__main__":
    main()
