"""NEEDS PYTORCH (torch==2.13.0+cpu) and the official CUT code. Never imported by tf_cyclegan
or its tests.

Runs one training iteration of the official CUT / FastCUT code
(taesungp/contrastive-unpaired-translation, ``models/cut_model.py``, in a scratch folder
outside this repository: its code is run there, never copied) on tiny networks and writes
what ``tests/training/cut_parity_test.py`` compares our step with:

- the weights of ``netG``, ``netD`` and ``netF`` after its data-dependent initialisation, in
  our layer order and Keras layouts;
- the two images, the patch positions it sampled and whether it flipped (FastCUT);
- every loss term, the PatchNCE loss of each layer, the discriminator's gradients, its
  weights after its Adam step, and the gradients of the generator and the MLP head (which
  the official code computes with that updated discriminator).

  pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu
  python tools/cut_reference.py --official_code=/tmp/cut/repo --out=tests/fixtures/cut
"""

import argparse
import copy
import os
import sys
import types

import numpy as np
import torch

# Tiny and fast, yet every code path: 5 NCE layers need 5 residual blocks (6 here).
_SIZE, _NGF, _NDF, _WIDTH, _PATCHES, _GAIN = 32, 4, 4, 16, 8, 1.0
_MODES = {
    "cut": ["--CUT_mode", "CUT"],
    "fastcut": ["--CUT_mode", "FastCUT"],
}


def _options(mode, scratch):
    from options.train_options import TrainOptions

    argv = [
        "--gpu_ids=-1",
        f"--checkpoints_dir={scratch}",
        "--name=reference",
        "--netG=resnet_6blocks",
        f"--ngf={_NGF}",
        f"--ndf={_NDF}",
        f"--netF_nc={_WIDTH}",
        f"--num_patches={_PATCHES}",
        f"--crop_size={_SIZE}",
        f"--load_size={_SIZE}",
        f"--init_gain={_GAIN}",
        *_MODES[mode],
    ]
    saved, sys.argv = sys.argv, ["train.py", *argv]
    try:
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                return TrainOptions().parse()
            finally:
                sys.stdout = stdout
    finally:
        sys.argv = saved


def _convs(module):
    """[(kernel [kh, kw, in, out], bias or None)] of ``module``'s convolutions, in order."""
    out = []
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv2d):
            bias = None if layer.bias is None else layer.bias.detach().numpy().copy()
            out.append((layer.weight.detach().permute(2, 3, 1, 0).numpy().copy(), bias))
    return out


def _linears(module):
    """[(kernel [in, out], bias)] of ``module``'s linear layers, in order."""
    return [
        (layer.weight.detach().T.numpy().copy(), layer.bias.detach().numpy().copy())
        for layer in module.modules()
        if isinstance(layer, torch.nn.Linear)
    ]


def _flatten(prefix, pairs, out):
    for i, (kernel, bias) in enumerate(pairs):
        out[f"{prefix}{i}_kernel"] = kernel
        if bias is not None:
            out[f"{prefix}{i}_bias"] = bias


def _grads(module, kind):
    layers = [m for m in module.modules() if isinstance(m, kind)]
    out = []
    for layer in layers:
        g = layer.weight.grad
        kernel = g.permute(2, 3, 1, 0) if kind is torch.nn.Conv2d else g.T
        bias = None if layer.bias is None else layer.bias.grad.numpy().copy()
        out.append((kernel.numpy().copy(), bias))
    return out


def reference(mode, scratch, seed=0):
    """One official iteration; returns {name: array} for the fixture."""
    from models import create_model

    for attempt in range(100):  # FastCUT: a seed whose iteration flips, to cover that path.
        torch.manual_seed(seed + attempt)
        np.random.seed(seed + attempt)
        opt = _options(mode, scratch)
        model = create_model(opt)
        images = {k: torch.rand(1, 3, _SIZE, _SIZE) * 2 - 1 for k in "AB"}
        data = {**images, "A_paths": ["a"], "B_paths": ["b"]}
        model.data_dependent_initialize(data)
        model.setup(opt)
        out = {"real_a": images["A"].permute(0, 2, 3, 1).numpy(), "real_b": None}
        out["real_b"] = images["B"].permute(0, 2, 3, 1).numpy()
        _flatten("g_conv", _convs(model.netG), out)
        _flatten("d_conv", _convs(model.netD), out)
        _flatten("f_dense", _linears(model.netF), out)
        recorded = _record(model)
        model.set_input(data)
        model.optimize_parameters()
        if mode == "cut" or model.flipped_for_equivariance:
            break
    out["flipped"] = np.array(bool(getattr(model, "flipped_for_equivariance", False)))
    # Per layer, in call order: A's layers, then B's for the identity term.
    for i, ids in enumerate(recorded["ids"]):
        out[f"patch_ids{i}"] = np.asarray(ids, np.int32)
    for i, value in enumerate(recorded["nce"]):
        out[f"nce_layer{i}"] = np.float32(value)
    for name in ("loss_D_fake", "loss_D_real", "loss_G_GAN", "loss_NCE", "loss_G"):
        out[name] = np.float32(getattr(model, name).item())
    if getattr(model, "loss_NCE_Y", None) is not None and opt.nce_idt:
        out["loss_NCE_Y"] = np.float32(model.loss_NCE_Y.item())
    _flatten("d_grad", recorded["d_grads"], out)
    _flatten("d_new", recorded["d_new"], out)
    _flatten("g_grad", recorded["g_grads"], out)
    _flatten("f_grad", recorded["f_grads"], out)
    out.update(_directional_derivatives(recorded["state"], out))
    return out


def _directional_derivatives(state, out, step=1e-6):
    """The generator loss's derivative along a random unit direction per convolution
    kernel, by central differences in float64, the source features held fixed.

    torch 2.13's autograd of this loss disagrees with its own finite differences on the
    layers after the residual blocks' taps (``g_grad*``: e.g. 1.00 against -2.10 along one
    direction of the input); these derivatives are the reference for the generator.
    """
    model, fake_inputs, ids = state["model"], state["real"], state["ids"]
    net_g = copy.deepcopy(model.netG).double()
    net_d = copy.deepcopy(model.netD).double()
    net_f = copy.deepcopy(model.netF).double()
    net_f.__dict__.pop("forward", None)  # _record's wrapper, bound to the float32 original.
    layers, opt = model.nce_layers, model.opt
    real_a, real_b = (x.detach().double() for x in fake_inputs)
    flipped = state["flipped"]
    batch = real_a.shape[0]

    def keys(src, call):
        with torch.no_grad():
            pooled, _ = net_f(net_g(src, layers, encode_only=True), opt.num_patches, ids[call])
        return pooled

    fixed = [keys(real_a, 0)] + ([keys(real_b, 1)] if opt.nce_idt else [])

    def nce(tgt, call):
        feats = net_g(tgt, layers, encode_only=True)
        if flipped:
            feats = [torch.flip(f, [3]) for f in feats]
        pooled, _ = net_f(feats, opt.num_patches, ids[call])
        terms = [c(q, k).mean() for q, k, c in zip(pooled, fixed[call], model.criterionNCE)]
        return opt.lambda_NCE * sum(terms) / len(terms)

    def loss():
        real = torch.cat([real_a, real_b]) if opt.nce_idt else real_a
        fake = net_g(torch.flip(real, [3]) if flipped else real)
        total = opt.lambda_GAN * ((net_d(fake[:batch]) - 1) ** 2).mean()
        if opt.nce_idt:
            return total + 0.5 * (nce(fake[:batch], 0) + nce(fake[batch:], 1))
        return total + nce(fake[:batch], 0)

    rng = np.random.default_rng(0)
    derivatives = {}
    with torch.no_grad():
        for i, conv in enumerate(m for m in net_g.modules() if isinstance(m, torch.nn.Conv2d)):
            direction = torch.tensor(rng.standard_normal(conv.weight.shape))
            direction /= direction.norm()
            conv.weight += step * direction
            up = loss().item()
            conv.weight -= 2 * step * direction
            down = loss().item()
            conv.weight += step * direction
            derivatives[f"g_direction{i}"] = direction.permute(2, 3, 1, 0).numpy()
            derivatives[f"g_derivative{i}"] = np.float64((up - down) / (2 * step))
    return derivatives


def _record(model):
    """Wraps the official modules to record the iteration's patch ids, per-layer losses,
    gradients and the discriminator's updated weights."""
    recorded = {"ids": [], "nce": []}
    forward_f = model.netF.forward

    def netf(feats, num_patches=64, patch_ids=None):
        feats_out, ids = forward_f(feats, num_patches, patch_ids)
        if patch_ids is None:
            recorded["ids"] += [i.numpy() if torch.is_tensor(i) else i for i in ids]
        return feats_out, ids

    model.netF.forward = netf
    for criterion in model.criterionNCE:
        forward_c = criterion.forward

        def nce(q, k, forward_c=forward_c):
            loss = forward_c(q, k)
            recorded["nce"].append(loss.mean().item())
            return loss

        criterion.forward = nce
    optimizers = (model.optimizer_D, model.optimizer_G, model.optimizer_F)
    step_d, step_g, step_f = (o.step for o in optimizers)

    def d_step(*args, **kwargs):
        recorded["d_grads"] = _grads(model.netD, torch.nn.Conv2d)
        result = step_d(*args, **kwargs)
        recorded["d_new"] = _convs(model.netD)
        return result

    def g_step(*args, **kwargs):
        recorded["g_grads"] = _grads(model.netG, torch.nn.Conv2d)
        # The generator's loss as it stands now: D updated, G and F not yet.
        recorded["state"] = {
            "model": copy.copy(model),
            "real": (model.real_A, model.real_B),
            "ids": [
                recorded["ids"][i : i + len(model.nce_layers)]
                for i in range(0, len(recorded["ids"]), len(model.nce_layers))
            ],
            "flipped": bool(getattr(model, "flipped_for_equivariance", False)),
        }
        recorded["state"]["model"].netG = copy.deepcopy(model.netG)
        recorded["state"]["model"].netD = copy.deepcopy(model.netD)
        recorded["state"]["model"].netF = copy.deepcopy(model.netF)
        return step_g(*args, **kwargs)

    def f_step(*args, **kwargs):
        recorded["f_grads"] = _grads(model.netF, torch.nn.Linear)
        return step_f(*args, **kwargs)

    model.optimizer_D.step, model.optimizer_G.step, model.optimizer_F.step = d_step, g_step, f_step
    return recorded


class _Anything:
    """Any attribute, any call: what the official data modules touch at import."""

    def __getattr__(self, name):
        return _Anything()

    def __call__(self, *args, **kwargs):
        return _Anything()


def _attribute(name):
    if name.startswith("__"):  # Module metadata (inspect asks for __file__): none.
        raise AttributeError(name)
    return _Anything()


def _stand_in_torchvision():
    """The official options import their data loaders, which import torchvision (for image
    transforms this script never runs); a stand-in module lets them import without it."""
    for name in ("torchvision", "torchvision.transforms", "torchvision.transforms.functional"):
        module = types.ModuleType(name)
        module.__getattr__ = _attribute
        sys.modules[name] = module


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official_code", required=True, help="a checkout of the CUT code")
    parser.add_argument("--out", default="tests/fixtures/cut")
    parser.add_argument("--scratch", default="/tmp/cut_reference_checkpoints")
    args = parser.parse_args()
    sys.path.insert(0, os.path.abspath(args.official_code))
    if "torchvision" not in sys.modules:
        try:
            import torchvision  # noqa: F401
        except ImportError:
            _stand_in_torchvision()
    os.makedirs(args.out, exist_ok=True)
    for mode in _MODES:
        values = reference(mode, args.scratch)
        np.savez(os.path.join(args.out, f"{mode}.npz"), **values)
        print(mode, {k: float(v) for k, v in values.items() if np.ndim(v) == 0})


if __name__ == "__main__":
    main()
