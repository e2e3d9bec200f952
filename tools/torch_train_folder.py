r"""NEEDS PYTORCH (torch==2.13.0+cpu). Never imported by tf_cyclegan or its tests.

Trains the official CycleGAN iteration (``torch_train_step.CycleGANStep``, with the official
initialisation: every convolution N(0, 0.02), biases 0) on a CycleGAN folder with the
official data path (PIL bicubic resize to --load_size, random --crop_size crop, random
flip; an epoch is max(|A|, |B|) steps, B drawn at random), and at each of --eval_steps writes
its translations of given test images, for ``benchmarks/real_photos.py --score_translations``
to score with the same code and reference images as our runs:

  python tools/torch_train_folder.py --data=../shared/data/horse2zebra \
      --test_images=test128.npz --out=/tmp/torch_h2z --generator=resnet_6blocks --ngf=32 \
      --upsample=resize_conv --load_size=143 --crop_size=128 --eval_steps=667,1334,2001

``--test_images`` is an .npz of float32 [n, s, s, 3] arrays in [-1, 1] named testA and testB
(``real_photos.py --dump_test_images`` writes it); the output is ``<out>/step_<N>.npz`` with
a2b (testA translated) and b2a (testB translated), and ``<out>/log.json`` with the seconds
per step. ``--upsample=resize_conv`` replaces the transposed convolutions by nearest-neighbour
upsampling, reflection padding 1 and a 3x3 convolution, as ``tf_cyclegan``'s option does; the
official code has only transposed convolutions.
"""

import argparse
import json
import os
import random
import time

import numpy as np
import torch
import torch_train_step
from PIL import Image
from torch import nn


def _resize_conv_generator(generator):
    """Swaps each ConvTranspose2d of an official ResNet generator for resize + convolution."""
    layers = []
    for layer in generator.model:
        if isinstance(layer, nn.ConvTranspose2d):
            layers += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.ReflectionPad2d(1),
                nn.Conv2d(layer.in_channels, layer.out_channels, 3),
            ]
        else:
            layers.append(layer)
    generator.model = nn.Sequential(*layers)
    return generator


def _official_init(module):
    """The official ``init_weights(init_type='normal', gain=0.02)``."""
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(layer.weight, 0.0, 0.02)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def _load_folder(folder, load_size):
    """Every image of ``folder``, RGB, bicubic-resized to load_size: uint8 [n, s, s, 3]."""
    images = []
    for name in sorted(os.listdir(folder)):
        with Image.open(os.path.join(folder, name)) as image:
            resized = image.convert("RGB").resize((load_size, load_size), Image.BICUBIC)
            images.append(np.asarray(resized))
    return np.stack(images)


def _sample(images, index, crop, rng):
    """One random crop, randomly flipped, as a float32 [1, 3, crop, crop] tensor in [-1, 1]."""
    image = images[index]
    top, left = (rng.randrange(image.shape[i] - crop + 1) for i in (0, 1))
    image = image[top : top + crop, left : left + crop]
    if rng.random() < 0.5:
        image = image[:, ::-1]
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 127.5 - 1
    return x.unsqueeze(0)


def _translate(generator, images):
    """float32 [n, h, w, 3] in [-1, 1] -> the generator's outputs, same layout."""
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2)
        return (
            torch.cat([generator(x[i : i + 8]) for i in range(0, len(x), 8)])
            .permute(0, 2, 3, 1)
            .numpy()
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--data", required=True)
    parser.add_argument("--test_images", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--generator", default="resnet_6blocks")
    parser.add_argument("--ngf", type=int, default=32)
    parser.add_argument("--ndf", type=int, default=64)
    parser.add_argument("--upsample", choices=("transpose", "resize_conv"), default="transpose")
    parser.add_argument("--load_size", type=int, default=143)
    parser.add_argument("--crop_size", type=int, default=128)
    parser.add_argument("--eval_steps", default="667,1334,2001")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    eval_steps = sorted(int(s) for s in args.eval_steps.split(","))

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    model = torch_train_step.CycleGANStep(args.generator, args.ngf, args.ndf)
    generators = (model.generator_a2b, model.generator_b2a)
    if args.upsample == "resize_conv":
        for generator in generators:
            _resize_conv_generator(generator)
        params = [p for g in generators for p in g.parameters()]
        model.optimizer_g = torch.optim.Adam(params, 2e-4, betas=(0.5, 0.999))
    for network in (*generators, model.discriminator_a, model.discriminator_b):
        _official_init(network)
        network.train()
    domain_a, domain_b = (
        _load_folder(os.path.join(args.data, split), args.load_size)
        for split in ("trainA", "trainB")
    )
    tests = np.load(args.test_images)
    os.makedirs(args.out, exist_ok=True)
    steps_per_epoch = max(len(domain_a), len(domain_b))
    order, seconds, log = [], 0.0, {"steps": [], "seconds": []}
    for step in range(1, eval_steps[-1] + 1):
        if not order:
            order = rng.sample(range(len(domain_a)), len(domain_a)) * (
                steps_per_epoch // len(domain_a) + 1
            )
        real_a = _sample(domain_a, order.pop(), args.crop_size, rng)
        real_b = _sample(domain_b, rng.randrange(len(domain_b)), args.crop_size, rng)
        start = time.perf_counter()
        model.step(real_a, real_b)
        seconds += time.perf_counter() - start
        if step in eval_steps:
            for g in generators:
                g.eval()  # Instance norm keeps no running statistics: eval == train here.
            np.savez(
                os.path.join(args.out, f"step_{step}.npz"),
                a2b=_translate(model.generator_a2b, tests["testA"]),
                b2a=_translate(model.generator_b2a, tests["testB"]),
            )
            for g in generators:
                g.train()
            log["steps"].append(step)
            log["seconds"].append(seconds)
            print(f"step {step}: {seconds / step:.3f} s/step", flush=True)
            with open(os.path.join(args.out, "log.json"), "w") as f:
                json.dump(log, f)


if __name__ == "__main__":
    main()
