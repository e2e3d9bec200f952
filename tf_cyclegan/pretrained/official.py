"""The official PyTorch CycleGAN generators' state-dict keys, mapped onto our Keras generators.

The official code (junyanz/pytorch-CycleGAN-and-pix2pix, ``models/networks.py``) builds its
generators as ``nn.Sequential`` lists, so a weight's key is its position:

- ResNet (``resnet_6blocks``/``resnet_9blocks``) with n blocks: ``model.1`` the 7x7 stem,
  ``model.4`` and ``model.7`` the stride-2 convolutions, ``model.{10+i}.conv_block.1`` and
  ``.conv_block.5`` (``.6`` with dropout) block i's convolutions, ``model.{10+n}`` and
  ``model.{13+n}`` the transposed convolutions, ``model.{17+n}`` the 7x7 head.
- U-Net (``unet_128``/``unet_256``): nested blocks, ``model.model.`` the outermost (its
  down convolution at ``0``, up at ``3``), ``model.model.1.model.`` the next, each deeper
  one at ``3.model.`` of its parent (down at ``1``, up at ``5``; the innermost's up at ``3``).

Instance norm without affine parameters holds no weights; the ``running_mean``/``running_var``
that PyTorch 0.4 wrote for it are stale and ignored. A ``module.`` prefix (DataParallel) is
stripped. PyTorch convolution weights are [out, in, kh, kw] and transposed ones [in, out, kh,
kw]; Keras wants [kh, kw, in, out] and [kh, kw, out, in]: the same axis permutation.
"""

import re

import numpy as np

from tf_cyclegan.common import architectures, errors
from tf_cyclegan.torch_files.pth import PthError

_STALE = re.compile(r"\.(running_mean|running_var|num_batches_tracked)$")
_RESNET_BLOCK = re.compile(r"^model\.(\d+)\.conv_block\.1\.weight$")


def clean(state):
    """``state`` without a DataParallel ``module.`` prefix and without stale norm statistics.

    Raises:
        PthError: the file holds normalization weights (batch norm: pix2pix-style models).
    """
    cleaned = {}
    for key, value in state.items():
        key = key.removeprefix("module.")
        if _STALE.search(key):
            owner = _STALE.sub("", key)
            if owner + ".weight" in state or "module." + owner + ".weight" in state:
                raise PthError(
                    f"{key}: the generator uses batch normalization; only the official "
                    "instance-norm generators (every CycleGAN model) can be imported"
                )
            continue
        cleaned[key] = value
    return cleaned


def _unet_prefix(level):
    if level == 0:
        return "model.model."
    return "model.model.1.model." + "3.model." * (level - 1)


def _unet_levels(state):
    level = 1
    while _unet_prefix(level) + "1.weight" in state:
        level += 1
    return level


def infer(state):
    """The architecture of a cleaned official state dict.

    Returns:
        {"generator": a registered name (``architectures.names``), "ngf": int,
        "use_dropout": bool}; dropout is visible in a ResNet's keys only (a U-Net's has no
        weights: False).

    Raises:
        PthError: the keys are not an official ResNet or U-Net generator's.
    """
    if "model.1.weight" in state and state["model.1.weight"].shape[2:] == (7, 7):
        blocks = sorted(int(m.group(1)) for k in state if (m := _RESNET_BLOCK.match(k)))
        n = len(blocks)
        architecture = architectures.official("resnet", n)
        if blocks != list(range(10, 10 + n)) or architecture is None:
            raise PthError(
                f"{n} residual blocks at model.{blocks[:1]}..: not an official ResNet layout"
            )
        return {
            "generator": architecture.name,
            "ngf": int(state["model.1.weight"].shape[0]),
            "use_dropout": "model.10.conv_block.6.weight" in state,
        }
    if "model.model.0.weight" in state:
        levels = _unet_levels(state)
        architecture = architectures.official("unet", levels)
        if architecture is None:
            raise PthError(f"a U-Net with {levels} levels: not an official U-Net layout")
        return {
            "generator": architecture.name,
            "ngf": int(state["model.model.0.weight"].shape[0]),
            "use_dropout": False,
        }
    first = next(iter(state), "nothing")
    raise PthError(
        f"key {first!r} is not an official CycleGAN generator's (expected model.1.weight "
        "for a ResNet or model.model.0.weight for a U-Net); is this a discriminator?"
    )


def layer_map(generator, use_dropout):
    """[(PyTorch key prefix, Keras layer name, transposed)] for an official generator."""
    architecture = architectures.get(generator)
    if architecture.family == "resnet":
        n = architecture.depth
        second = 6 if use_dropout else 5
        pairs = [("model.1", "stem_conv", False)]
        pairs += [("model.4", "down0_conv", False), ("model.7", "down1_conv", False)]
        for i in range(n):
            pairs.append((f"model.{10 + i}.conv_block.1", f"res{i}_conv1", False))
            pairs.append((f"model.{10 + i}.conv_block.{second}", f"res{i}_conv2", False))
        pairs += [(f"model.{10 + n}", "up0_convT", True), (f"model.{13 + n}", "up1_convT", True)]
        return pairs + [(f"model.{17 + n}", "head_conv", False)]
    levels = architecture.depth
    pairs = []
    for level in range(levels):
        prefix = _unet_prefix(level)
        innermost = level == levels - 1
        down = "0" if level == 0 else "1"
        up = "3" if level == 0 or innermost else "5"
        pairs.append((prefix + down, f"down{level}_conv", False))
        pairs.append((prefix + up, f"up{level}_convT", True))
    return pairs


def _channels(generator, ngf, input_nc, output_nc):
    """[(in, out)] of each layer of ``layer_map``'s list, in order, as the official code
    builds them (a transposed layer's pair as PyTorch stores it: [in, out])."""
    architecture = architectures.get(generator)
    if architecture.family == "resnet":
        n = architecture.depth
        wide = 4 * ngf
        return (
            [(input_nc, ngf), (ngf, 2 * ngf), (2 * ngf, wide)]
            + [(wide, wide)] * (2 * n)
            + [(wide, 2 * ngf), (2 * ngf, ngf), (ngf, output_nc)]
        )
    levels = architecture.depth
    widths = [ngf * min(2**level, 8) for level in range(levels)]
    pairs = []
    for level in range(levels):
        outer = input_nc if level == 0 else widths[level - 1]
        up_out = output_nc if level == 0 else widths[level - 1]
        up_in = widths[level] * (1 if level == levels - 1 else 2)  # Skip concatenated.
        pairs += [(outer, widths[level]), (up_in, up_out)]
    return pairs


def expected_shapes(generator, ngf, use_dropout=False, input_nc=3, output_nc=3):
    """{key: PyTorch shape} of every weight and bias of an official generator."""
    layers = layer_map(generator, use_dropout)
    shapes = {}
    for i, ((prefix, _, transposed), (c_in, c_out)) in enumerate(
        zip(layers, _channels(generator, ngf, input_nc, output_nc))
    ):
        if architectures.get(generator).family == "unet":
            size = 4
        else:  # The ResNet's 7x7 stem and head, 3x3 elsewhere.
            size = 7 if i in (0, len(layers) - 1) else 3
        pair = (c_in, c_out) if transposed else (c_out, c_in)
        shapes[f"{prefix}.weight"] = (*pair, size, size)
        shapes[f"{prefix}.bias"] = (c_out,)
    return shapes


def check_layout(tensors, input_nc=3, output_nc=3):
    """The architecture of a cleaned state dict whose tensors are not read yet, checked key by
    key against the official layout, so that nothing else is ever read.

    Args:
        tensors: {key: anything with ``.shape``} from ``clean``.

    Returns:
        ``infer``'s dict.

    Raises:
        PthError: naming the first key that is missing, extra, or of another shape.
    """
    found = infer(tensors)
    want = expected_shapes(
        found["generator"], found["ngf"], found["use_dropout"], input_nc, output_nc
    )
    compare_shapes(tensors, want, f"an official {found['generator']}", f"with ngf {found['ngf']}")
    return found


def compare_shapes(tensors, want, owner, variant):
    """Raises PthError naming the first key of ``tensors`` that ``want`` ({key: shape})
    lacks or shapes otherwise, or the first key of ``want`` missing from ``tensors``.

    Args:
        owner: the architecture as messages name it ("an official resnet_9blocks").
        variant: what sets its shapes ("with ngf 64").
    """
    name = owner.split()[-1]
    for key, tensor in tensors.items():
        if key not in want:
            raise PthError(f"{key} is not a weight of {owner}")
        if tuple(tensor.shape) != want[key]:
            raise PthError(
                f"{key} has shape {list(tensor.shape)}, but {name} {variant} expects "
                f"{list(want[key])}"
            )
    missing = [k for k in want if k not in tensors]
    if missing:
        raise PthError(f"{missing[0]} is missing: the file is not {owner}")


def _torch_shape(keras_kernel_shape):
    """[kh, kw, in, out] (or [kh, kw, out, in] transposed) -> PyTorch's [out, in, kh, kw]
    (or [in, out, kh, kw]): one permutation for both."""
    kh, kw, a, b = keras_kernel_shape
    return (b, a, kh, kw)


def assign(keras_generator, state, generator, use_dropout=False):
    """Sets ``keras_generator``'s weights from a cleaned official state dict.

    Args:
        keras_generator: ``models.build_generator`` of the matching config, with
            ``pytorch_compatible`` on.
        state: {key: float array} from ``clean``.
        generator, use_dropout: the architecture (``infer``).

    Raises:
        PthError: naming the first key that is missing, extra, or of another shape.
    """
    used = set()
    for prefix, layer_name, _ in layer_map(generator, use_dropout):
        layer = keras_generator.get_layer(layer_name)
        kernel = layer.kernel
        expected = _torch_shape(tuple(kernel.shape))
        for suffix in ("weight", "bias"):
            key = f"{prefix}.{suffix}"
            if key not in state:
                raise PthError(f"{key} is missing: the file is not an official {generator}")
            value = np.asarray(state[key], np.float32)
            want = expected if suffix == "weight" else (int(layer.bias.shape[0]),)
            if value.shape != want:
                raise PthError(
                    f"{key} has shape {list(value.shape)}, but {generator} with this ngf "
                    f"expects {list(want)}"
                )
            if suffix == "weight":
                kernel.assign(value.transpose(2, 3, 1, 0))
            else:
                layer.bias.assign(value)
            used.add(key)
    extra = [k for k in state if k not in used]
    if extra:
        raise PthError(f"{extra[0]} is not a weight of an official {generator}")


def state_dict(keras_generator, generator, use_dropout=False):
    """The official PyTorch state dict of ``keras_generator`` (the reverse of ``assign``)."""
    state = {}
    for prefix, layer_name, _ in layer_map(generator, use_dropout):
        layer = keras_generator.get_layer(layer_name)
        state[f"{prefix}.weight"] = np.asarray(layer.kernel).transpose(3, 2, 0, 1)
        state[f"{prefix}.bias"] = np.asarray(layer.bias)
    return state


def check_exportable(model_config):
    """Raises ConfigError unless the official PyTorch code computes what these generators do.

    Args:
        model_config: a ``config.ModelConfig``.
    """
    reasons = []
    if not architectures.get(model_config.generator).official:
        reasons.append(f"--generator={model_config.generator} (not an official CycleGAN one)")
    if model_config.norm != "instance":
        reasons.append(f"--norm={model_config.norm} (official: instance)")
    if model_config.upsample != "transpose":
        reasons.append(f"--upsample={model_config.upsample} (official: transpose)")
    family = architectures.get(model_config.generator).family
    if family == "resnet" and not model_config.pytorch_compatible:
        reasons.append("a ResNet trained without --pytorch_compatible (Keras 'same' padding)")
    if reasons:
        raise errors.ConfigError(
            f"--formats=pth writes the official PyTorch generators, which differ from this "
            f"run's: {'; '.join(reasons)}; train with the official layout to export .pth"
        )
