"""GAN Compression's compressed CycleGAN generators' state-dict keys, mapped onto ours.

``SubMobileResnetGenerator`` (``networks.sub_mobile``) is an ``nn.Sequential`` laid out as the
official ResNet's: with n blocks, ``model.1`` the 7x7 stem, ``model.4`` and ``model.7`` the
stride-2 convolutions, ``model.{10+i}`` block i, whose separable convolutions are
``conv_block.1.conv.0`` (depthwise) / ``conv_block.1.conv.2`` (pointwise) and
``conv_block.6.conv.0`` / ``conv_block.6.conv.2``, ``model.{10+n}`` and ``model.{13+n}`` the
transposed convolutions, ``model.{17+n}`` the 7x7 head. Every layer has a bias; instance
norm has no weights.

The widths are read from the tensors' shapes and written back as the config string their
code takes (``16_16_32_16_32_32_16_16``): every key is then checked against the shapes that
string implies before any tensor's bytes are read.
"""

import re

import numpy as np

from tf_cyclegan.common import architectures
from tf_cyclegan.pretrained import official
from tf_cyclegan.torch_files.pth import PthError

GENERATOR = "sub_mobile_resnet_9blocks"
_DEPTHWISE = re.compile(r"^model\.(\d+)\.conv_block\.1\.conv\.0\.weight$")


def is_sub_mobile(state):
    """Whether the keys are a GAN Compression sub-mobile generator's (separable blocks)."""
    return any(_DEPTHWISE.match(k) for k in state)


def _blocks(state):
    return sorted(int(m.group(1)) for k in state if (m := _DEPTHWISE.match(k)))


def _shape(state, key):
    if key not in state:
        raise PthError(f"{key} is missing: the file is not a GAN Compression {GENERATOR}")
    return tuple(state[key].shape)


def infer(state):
    """The architecture of a cleaned state dict, from its keys and shapes (nothing read).

    Returns:
        {"generator": "sub_mobile_resnet_9blocks", "sub_mobile_config": "c0_c1_..._c7"}.

    Raises:
        PthError: naming the key whose shape no config string gives.
    """
    blocks = _blocks(state)
    if blocks != list(range(10, 19)):
        raise PthError(
            f"{len(blocks)} separable residual blocks at model.{blocks[:1]}..: GAN "
            f"Compression's {GENERATOR} has 9, at model.10 to model.18"
        )
    halves = {
        "model.4.weight": _shape(state, "model.4.weight")[0],
        "model.7.weight": _shape(state, "model.7.weight")[0],
        "model.19.weight": _shape(state, "model.19.weight")[1],
    }
    for key, width, factor in zip(halves, halves.values(), (2, 4, 2)):
        if width % factor:
            raise PthError(f"{key}: {width} channels is not a multiple of {factor}")
    hidden = [_shape(state, f"model.{b}.conv_block.1.conv.2.weight")[0] for b in blocks]
    for group in range(3):
        widths = hidden[3 * group : 3 * group + 3]
        if len(set(widths)) > 1 or widths[0] % 4:
            key = f"model.{10 + 3 * group}.conv_block.1.conv.2.weight"
            raise PthError(f"{key}: blocks of one group have widths {widths}, not one 4*c")
    numbers = [
        _shape(state, "model.1.weight")[0],
        halves["model.4.weight"] // 2,
        halves["model.7.weight"] // 4,
        *(hidden[3 * g] // 4 for g in range(3)),
        halves["model.19.weight"] // 2,
        _shape(state, "model.22.weight")[1],
    ]
    return {"generator": GENERATOR, "sub_mobile_config": "_".join(map(str, numbers))}


def layer_map(n_blocks=9):
    """[(PyTorch key prefix, Keras layer name, kind)], kind "conv", "depthwise" or "convT"."""
    pairs = [("model.1", "stem_conv", "conv")]
    pairs += [("model.4", "down0_conv", "conv"), ("model.7", "down1_conv", "conv")]
    for i in range(n_blocks):
        for part, sep in (("1", "sep1"), ("6", "sep2")):
            prefix = f"model.{10 + i}.conv_block.{part}.conv"
            pairs.append((f"{prefix}.0", f"res{i}_{sep}_depthwise", "depthwise"))
            pairs.append((f"{prefix}.2", f"res{i}_{sep}_pointwise", "conv"))
    pairs += [(f"model.{10 + n_blocks}", "up0_convT", "convT")]
    pairs += [(f"model.{13 + n_blocks}", "up1_convT", "convT")]
    return pairs + [(f"model.{17 + n_blocks}", "head_conv", "conv")]


def expected_shapes(config_str, input_nc=3, output_nc=3):
    """{key: PyTorch shape} of every weight and bias of the generator ``config_str`` sets."""
    w = architectures.SubMobileWidths.parse(config_str)
    # (in, out, kernel) per layer_map entry; a transposed layer's PyTorch shape is [in, out].
    layers = [(input_nc, w.stem, 7), (w.stem, w.down0, 3), (w.down0, w.trunk, 3)]
    for hidden in w.hidden:
        layers += [(w.trunk, w.trunk, 3), (w.trunk, hidden, 1)]
        layers += [(hidden, hidden, 3), (hidden, w.trunk, 1)]
    layers += [(w.trunk, w.up0, 3), (w.up0, w.up1, 3), (w.up1, output_nc, 7)]
    shapes = {}
    for (prefix, _, kind), (c_in, c_out, k) in zip(layer_map(len(w.hidden)), layers):
        if kind == "depthwise":
            shapes[f"{prefix}.weight"] = (c_out, 1, k, k)
        else:
            pair = (c_in, c_out) if kind == "convT" else (c_out, c_in)
            shapes[f"{prefix}.weight"] = (*pair, k, k)
        shapes[f"{prefix}.bias"] = (c_out,)
    return shapes


def check_layout(tensors, input_nc=3, output_nc=3):
    """``infer``'s architecture of ``tensors`` (not read yet), checked key by key.

    Raises:
        PthError: naming the first key that is missing, extra, or of another shape.
    """
    found = infer(tensors)
    want = expected_shapes(found["sub_mobile_config"], input_nc, output_nc)
    official.compare_shapes(
        tensors, want, f"GAN Compression's {GENERATOR}", found["sub_mobile_config"]
    )
    return found


def assign(keras_generator, state):
    """Sets ``keras_generator``'s weights (``models.build_generator`` of the matching config)
    from a cleaned state dict whose layout ``check_layout`` accepted."""
    for prefix, layer_name, kind in layer_map():
        layer = keras_generator.get_layer(layer_name)
        weight = np.asarray(state[f"{prefix}.weight"], np.float32)
        if kind == "depthwise":  # [c, 1, kh, kw] -> Keras [kh, kw, c, 1].
            layer.kernel.assign(weight.transpose(2, 3, 0, 1))
        else:  # [out, in, kh, kw] (transposed: [in, out, ...]) -> [kh, kw, in, out] (...).
            layer.kernel.assign(weight.transpose(2, 3, 1, 0))
        layer.bias.assign(np.asarray(state[f"{prefix}.bias"], np.float32))
