r"""NEEDS PYTORCH (torch==2.13.0+cpu) and GAN Compression's code. Never imported by the tests.

GAN Compression's own ``SubMobileResnetGenerator`` (mit-han-lab/gan-compression, run from a
checkout outside this repository, given as --code) beside our import of its files:

  python tools/gan_compression_reference.py --code=/tmp/gan-compression --fixtures
      # rewrites tests/fixtures/pretrained/sub_mobile*.{pth,npy}
  python tools/gan_compression_reference.py --code=/tmp/gan-compression \
      --check=latest_net_G.pth --images=../shared/data/horse2zebra/testA
      # the full file on real photos: max abs difference of our output and theirs

The fixtures: a small sub-mobile generator (config ``4_8_4_2_4_6_4_2``: every width differs)
with random weights whose tensors are saved as views into larger storages (a slice at an
offset, with strides that skip elements, as the pruned networks GAN Compression publishes
hold), in the legacy format their file uses (``sub_mobile_legacy.pth``) and the zip format
(``sub_mobile.pth``); inputs (some beyond [-1, 1], which the network clamps) and their
network's outputs as ``.npy``.
"""

import argparse
import functools
import os
import sys

import numpy as np
import torch
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "pretrained")
FIXTURE_CONFIG = "4_8_4_2_4_6_4_2"


def their_generator(code, config_str):
    """GAN Compression's generator as their test.py builds it for CycleGAN (instance norm)."""
    sys.path.insert(0, code)
    from configs import decode_config
    from models.modules.resnet_architecture.sub_mobile_resnet_generator import (
        SubMobileResnetGenerator,
    )

    norm = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    return SubMobileResnetGenerator(3, 3, decode_config(config_str), norm, 0, 9).eval()


def _as_view(tensor, generator):
    """``tensor``'s values in a view of a larger random storage: offset, skipping strides."""
    shape = tensor.shape
    big = torch.randn(*(n + 2 for n in shape), generator=generator)
    view = big[tuple(slice(1, 1 + n) for n in shape)]
    view.copy_(tensor)
    assert view.storage_offset() > 0 and (tensor.dim() == 1 or not view.is_contiguous())
    return view


def write_fixtures(code):
    torch.manual_seed(0)
    net = their_generator(code, FIXTURE_CONFIG)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for parameter in net.parameters():  # Random biases too: every weight matters.
            parameter.normal_(0.0, 0.2, generator=generator)
    state = {k: _as_view(v, generator) for k, v in net.state_dict().items()}
    torch.save(state, os.path.join(OUT, "sub_mobile.pth"))
    torch.save(
        state, os.path.join(OUT, "sub_mobile_legacy.pth"), _use_new_zipfile_serialization=False
    )
    rng = np.random.default_rng(2)
    inputs = rng.uniform(-1.3, 1.3, (2, 24, 32, 3)).astype(np.float32)  # Some get clamped.
    with torch.no_grad():
        outputs = net(torch.from_numpy(inputs).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    np.save(os.path.join(OUT, "sub_mobile_inputs.npy"), inputs)
    np.save(os.path.join(OUT, "sub_mobile_outputs.npy"), outputs.numpy())
    print(f"Wrote {OUT}/sub_mobile*: config {FIXTURE_CONFIG}, {len(state)} tensors as views")


def check(code, path, images, count):
    """Prints the max abs difference of our imported generator and theirs on ``images``."""
    from PIL import Image

    sys.path.insert(0, ROOT)
    from tf_cyclegan.pretrained import gan_compression
    from tf_cyclegan.torch_files import pth

    state = torch.load(path, map_location="cpu")
    found = gan_compression.infer(state)
    net = their_generator(code, found["sub_mobile_config"])
    net.load_state_dict(state)
    names = sorted(os.listdir(images))[:count]
    batch = np.stack(
        [
            np.asarray(Image.open(os.path.join(images, n)).convert("RGB").resize((256, 256), 3))
            for n in names
        ]
    ).astype(np.float32)
    batch = batch / 127.5 - 1
    with torch.no_grad():
        theirs = net(torch.from_numpy(batch).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.networks import models

    model = config_lib.ModelConfig(**found, pytorch_compatible=True)
    ours_net = models.build_generator(model)
    gan_compression.assign(ours_net, pth.load_state_dict(path))
    ours = ours_net(batch, training=False).numpy()
    print(
        f"{path}: {found['sub_mobile_config']}, {len(names)} photos of {images} at 256x256: "
        f"max |ours - GAN Compression's| = {np.abs(ours - theirs).max():.2e} "
        f"(outputs in [-1, 1]); mean {np.abs(ours - theirs).mean():.2e}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    parser.add_argument("--code", required=True, help="A checkout of mit-han-lab/gan-compression.")
    parser.add_argument("--fixtures", action="store_true")
    parser.add_argument("--check", help="A GAN Compression .pth to compare on real photos.")
    parser.add_argument("--images", help="A folder of photos for --check.")
    parser.add_argument("--count", type=int, default=16)
    args = parser.parse_args()
    if args.fixtures:
        write_fixtures(args.code)
    if args.check:
        check(args.code, args.check, args.images, args.count)


if __name__ == "__main__":
    main()
