"""NEEDS PYTORCH (torch==2.13.0+cpu). Never imported by tf_cyclegan or its tests.

A minimal PyTorch re-implementation of the official CycleGAN generators, written for this
repository from the published architecture: the same modules in the same order, so the
state-dict keys and the numerics are the official ones (reflection padding, padding=1 on the
stride-2 convolutions, ``ConvTranspose2d(padding=1, output_padding=1)``, InstanceNorm2d
with eps 1e-5 and no affine parameters, in-place activations: a U-Net's skip connection
carries its input after the in-place LeakyReLU, which the ReLU after the concatenation
makes irrelevant).

Install: pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu
"""

import torch
from torch import nn


def _norm(channels):
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    def __init__(self, channels, dropout):
        super().__init__()
        layers = [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels)]
        layers.append(nn.ReLU(True))
        if dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _norm(channels)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    def __init__(self, ngf=64, n_blocks=9, dropout=False):
        super().__init__()
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, ngf, 7), _norm(ngf), nn.ReLU(True)]
        for mult in (1, 2):
            channels = ngf * mult
            layers.append(nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1))
            layers += [_norm(2 * channels), nn.ReLU(True)]
        layers += [ResidualBlock(4 * ngf, dropout) for _ in range(n_blocks)]
        for mult in (4, 2):
            channels = ngf * mult
            layers.append(
                nn.ConvTranspose2d(channels, channels // 2, 3, 2, padding=1, output_padding=1)
            )
            layers += [_norm(channels // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        return self.model(x)


class UnetLevel(nn.Module):
    """One level of the U-Net: down, the deeper levels, up; the outermost has no skip."""

    def __init__(self, outer, inner, deeper=None, in_channels=None, dropout=False):
        super().__init__()
        self.outermost = in_channels is not None
        down = nn.Conv2d(in_channels or outer, inner, 4, 2, 1)
        if self.outermost:
            layers = [down, deeper, nn.ReLU(True), nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1)]
            layers.append(nn.Tanh())
        elif deeper is None:  # Innermost: no norm after its down convolution.
            up = nn.ConvTranspose2d(inner, outer, 4, 2, 1)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, _norm(outer)]
        else:
            up = nn.ConvTranspose2d(2 * inner, outer, 4, 2, 1)
            layers = [nn.LeakyReLU(0.2, True), down, _norm(inner), deeper, nn.ReLU(True), up]
            layers.append(_norm(outer))
            if dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        if self.outermost:
            return self.model(x)
        # The first layer's in-place LeakyReLU has already changed x when cat reads it.
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    def __init__(self, num_downs=8, ngf=64, dropout=False):
        super().__init__()
        level = UnetLevel(8 * ngf, 8 * ngf)
        for _ in range(num_downs - 5):
            level = UnetLevel(8 * ngf, 8 * ngf, level, dropout=dropout)
        for mult in (4, 2, 1):
            level = UnetLevel(mult * ngf, 2 * mult * ngf, level)
        self.model = UnetLevel(3, ngf, level, in_channels=3)

    def forward(self, x):
        return self.model(x)


def build(generator, ngf, dropout=False, seed=0):
    """An official-layout generator with random weights (normal std 0.02, as the official
    init, plus random biases so that every weight matters)."""
    torch.manual_seed(seed)
    if generator.startswith("resnet_"):
        n = int(generator.removeprefix("resnet_").removesuffix("blocks"))
        net = ResnetGenerator(ngf, n, dropout)
    else:
        net = UnetGenerator({"unet_128": 7, "unet_256": 8}[generator], ngf, dropout)
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            std = 0.02 if name.endswith("weight") else 0.1
            parameter.normal_(0.0, std)
    return net.eval()


def translate(net, images):
    """float32 NumPy [n, h, w, 3] in [-1, 1] -> the network's output, same layout."""
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
        return net(x).permute(0, 2, 3, 1).numpy()
