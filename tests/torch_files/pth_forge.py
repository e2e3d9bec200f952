"""Hand-written ``.pth`` files that declare whatever a hostile file may declare (no PyTorch).

The pickles are spelled opcode by opcode, as ``torch.save`` writes them, so a test can give a
tensor any shape, stride, offset or storage size, however inconsistent.
"""

import pickle
import struct
import zipfile


def _global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _str(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(value):
    raw = pickle.encode_long(value)
    return b"\x8a" + bytes([len(raw)]) + raw


def _tuple(items):
    return b"(" + b"".join(items) + b"t"


def _ordered_dict():
    return _global("collections", "OrderedDict") + b")R"


def state_dict_pickle(tensors):
    """The ``data.pkl`` of a state dict.

    Args:
        tensors: {key: (storage key, declared storage numel, offset, shape, stride)}; float32.
    """
    items = b""
    for key, (storage, numel, offset, shape, stride) in tensors.items():
        pid = _tuple(
            [_str("storage"), _global("torch", "FloatStorage"), _str(storage), _str("cpu")]
            + [_int(numel)]
        )
        args = [pid + b"Q", _int(offset), _tuple(map(_int, shape)), _tuple(map(_int, stride))]
        args += [b"\x89", _ordered_dict()]  # requires_grad=False, no hooks.
        items += _str(key) + _global("torch._utils", "_rebuild_tensor_v2") + _tuple(args) + b"R"
    return b"\x80\x02" + _ordered_dict() + b"(" + items + b"u."


def write_zip(path, tensors, storages, compress=False):
    """A zip-format ``.pth``: ``storages`` {key: bytes or (size in bytes of zeros)}."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as z:
        z.writestr("archive/data.pkl", state_dict_pickle(tensors))
        for key, data in storages.items():
            with z.open(f"archive/data/{key}", "w", force_zip64=True) as member:
                if isinstance(data, int):  # Streamed zeros: a bomb without holding it.
                    chunk = bytes(1 << 20)
                    for start in range(0, data, len(chunk)):
                        member.write(chunk[: data - start])
                else:
                    member.write(data)


def write_legacy(path, tensors, storages):
    """A legacy-format ``.pth``: ``storages`` {key: (declared numel in header, bytes)}."""
    parts = [pickle.dumps(0x1950A86A20F9469CFC6C, 2), pickle.dumps(1001, 2)]
    parts += [pickle.dumps({"little_endian": True}, 2), state_dict_pickle(tensors)]
    parts.append(pickle.dumps(list(storages), 2))
    for numel, data in storages.values():
        parts += [struct.pack("<q", numel), data]
    with open(path, "wb") as f:
        f.write(b"".join(parts))
