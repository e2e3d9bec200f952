"""Writes a PyTorch state dict (zip format) without PyTorch: the pickle written opcode by
opcode, naming only what ``torch.load(weights_only=True)`` admits (an ordered dict, the
tensor-rebuild function, ``torch.FloatStorage``)."""

import struct
import zipfile

import numpy as np


def _binunicode(text):
    data = text.encode("utf-8")
    return b"X" + struct.pack("<I", len(data)) + data


def _binint(value):
    return b"J" + struct.pack("<i", value)


def _tuple(items):
    return b"(" + b"".join(items) + b"t"


_ORDERED_DICT = b"ccollections\nOrderedDict\n)R"


def _tensor_pickle(storage_key, array):
    storage = _tuple(
        [
            _binunicode("storage"),
            b"ctorch\nFloatStorage\n",
            _binunicode(storage_key),
            _binunicode("cpu"),
            _binint(array.size),
        ]
    )
    strides = [s // array.itemsize for s in array.strides]
    arguments = _tuple(
        [
            storage + b"Q",  # BINPERSID: the storage, by key.
            _binint(0),
            _tuple([_binint(n) for n in array.shape]),
            _tuple([_binint(s) for s in strides]),
            b"\x89",  # requires_grad=False
            _ORDERED_DICT,  # backward hooks
        ]
    )
    return b"ctorch._utils\n_rebuild_tensor_v2\n" + arguments + b"R"


def save_state_dict(state, path):
    """Writes float32 arrays as a PyTorch state dict in the zip format that ``torch.load``
    reads (also with ``weights_only=True``), without PyTorch.

    Args:
        state: {key: NumPy array}; written as contiguous float32 tensors, in this order.
        path: the ``.pth`` file to write.
    """
    arrays = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}
    body = [b"\x80\x02", _ORDERED_DICT, b"("]
    for index, (key, array) in enumerate(arrays.items()):
        body += [_binunicode(key), _tensor_pickle(str(index), array)]
    body += [b"u."]
    prefix = "archive/"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "data.pkl", b"".join(body))
        z.writestr(prefix + "byteorder", "little")
        for index, array in enumerate(arrays.values()):
            z.writestr(f"{prefix}data/{index}", array.astype("<f4").tobytes())
        z.writestr(prefix + "version", "3\n")
