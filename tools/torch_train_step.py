"""NEEDS PYTORCH (torch==2.13.0+cpu). Never imported by tf_cyclegan or its tests.

The official CycleGAN training iteration (``models/cycle_gan_model.py`` of
junyanz/pytorch-CycleGAN-and-pix2pix, re-implemented for this repository from the paper's
recipe): the official ResNet generators (``torch_reference.py``), 70x70 PatchGAN
discriminators (3 layers, instance norm, LeakyReLU 0.2), the LSGAN loss, cycle L1 x 10,
identity L1 x 0.5 x 10, a 50-image pool per domain, Adam(2e-4, 0.5, 0.999); the generators'
update first with the discriminators frozen, then each discriminator on (real, pooled fake)
with its loss halved. ``benchmarks/precision.py`` times it beside our step, in float32 and
under ``torch.autocast('cpu', torch.bfloat16)`` (the official code has no mixed precision;
autocast is what a PyTorch user would add).

Install: pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu
"""

import random
import statistics
import time

import torch
import torch_reference
from torch import nn


def patch_discriminator(ndf=64, n_layers=3):
    """The official ``NLayerDiscriminator`` with instance norm."""
    layers = [nn.Conv2d(3, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    channels = ndf
    for n in range(1, n_layers + 1):
        out = ndf * min(2**n, 8)
        stride = 2 if n < n_layers else 1
        layers += [nn.Conv2d(channels, out, 4, stride, 1), nn.InstanceNorm2d(out)]
        layers.append(nn.LeakyReLU(0.2, True))
        channels = out
    layers.append(nn.Conv2d(channels, 1, 4, 1, 1))
    return nn.Sequential(*layers)


class ImagePool:
    """The official pool: fills to ``size``, then returns a stored image half the time."""

    def __init__(self, size=50):
        self.size, self.images = size, []

    def query(self, images):
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif random.random() > 0.5:
                index = random.randrange(self.size)
                out.append(self.images[index].clone())
                self.images[index] = image
            else:
                out.append(image)
        return torch.cat(out, 0)


class CycleGANStep:
    """The four networks, their two Adams and the pools; ``step(a, b)`` is one iteration."""

    def __init__(self, generator="resnet_9blocks", ngf=64, ndf=64, bfloat16=False):
        self.generator_a2b = torch_reference.build(generator, ngf, seed=0).train()
        self.generator_b2a = torch_reference.build(generator, ngf, seed=1).train()
        self.discriminator_a, self.discriminator_b = (
            patch_discriminator(ndf),
            patch_discriminator(ndf),
        )
        generators = [*self.generator_a2b.parameters(), *self.generator_b2a.parameters()]
        discriminators = [*self.discriminator_a.parameters(), *self.discriminator_b.parameters()]
        self.optimizer_g = torch.optim.Adam(generators, 2e-4, betas=(0.5, 0.999))
        self.optimizer_d = torch.optim.Adam(discriminators, 2e-4, betas=(0.5, 0.999))
        self.pool_a, self.pool_b = ImagePool(), ImagePool()
        self.bfloat16 = bfloat16

    def _autocast(self):
        return torch.autocast("cpu", torch.bfloat16, enabled=self.bfloat16)

    @staticmethod
    def _gan(logits, real):
        return nn.functional.mse_loss(logits, torch.full_like(logits, float(real)))

    def step(self, real_a, real_b):
        l1 = nn.functional.l1_loss
        for d in (self.discriminator_a, self.discriminator_b):
            d.requires_grad_(False)
        with self._autocast():
            fake_b, fake_a = self.generator_a2b(real_a), self.generator_b2a(real_b)
            cycle_a, cycle_b = self.generator_b2a(fake_b), self.generator_a2b(fake_a)
            same_b, same_a = self.generator_a2b(real_b), self.generator_b2a(real_a)
            loss_g = (
                self._gan(self.discriminator_b(fake_b).float(), True)
                + self._gan(self.discriminator_a(fake_a).float(), True)
                + 10 * l1(cycle_a.float(), real_a)
                + 10 * l1(cycle_b.float(), real_b)
                + 5 * l1(same_b.float(), real_b)
                + 5 * l1(same_a.float(), real_a)
            )
        self.optimizer_g.zero_grad()
        loss_g.backward()
        self.optimizer_g.step()
        for d in (self.discriminator_a, self.discriminator_b):
            d.requires_grad_(True)
        loss_d = 0.0
        with self._autocast():
            for d, real, fake, pool in (
                (self.discriminator_a, real_a, fake_a, self.pool_a),
                (self.discriminator_b, real_b, fake_b, self.pool_b),
            ):
                pooled = pool.query(fake.detach())
                loss_d = loss_d + 0.5 * (
                    self._gan(d(real).float(), True) + self._gan(d(pooled).float(), False)
                )
        self.optimizer_d.zero_grad()
        loss_d.backward()
        self.optimizer_d.step()
        return float(loss_g), float(loss_d)


def seconds_per_step(size, steps=3, bfloat16=False, generator="resnet_9blocks"):
    """Median seconds of ``steps`` iterations at batch 1, after one warm-up."""
    torch.manual_seed(0)
    model = CycleGANStep(generator, bfloat16=bfloat16)
    real_a, real_b = (torch.rand(1, 3, size, size) * 2 - 1 for _ in range(2))
    model.step(real_a, real_b)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.step(real_a, real_b)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
