"""Reads PyTorch ``.pth`` state dicts into NumPy arrays, without PyTorch and without running code.

Three on-disk formats exist:

- zip (``torch.save`` since 1.6): ``<name>/data.pkl`` pickles the dict, each tensor's storage
  is the raw little-endian file ``<name>/data/<key>``.
- legacy (before 1.6, and ``_use_new_zipfile_serialization=False``): five pickles in a row
  (magic number, protocol version, system info, the dict, the storage keys), then each
  storage as an int64 element count and its raw bytes.
- tar (the first PyTorch releases): members ``storages`` (a count, then per storage a pickled
  (key, location, type), an int64 count and the bytes), ``tensors`` (a count, then per tensor
  a pickled (key, storage key, type) and its int32 rank, 4 pad bytes, int64 sizes, strides
  and offset) and ``pickle`` (the dict, naming tensors by key).

Unpickling runs whatever callables a file names. ``_SafeUnpickler`` resolves only the few
names a state dict needs (an ordered dict, the tensor-rebuild functions, storage types) to
functions of this module, and refuses every other name before anything is called.
"""

import collections
import io
import pickle
import struct
import tarfile
import zipfile

import numpy as np

from tf_cyclegan import errors

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class PthError(errors.UserError, ValueError):
    """A ``.pth`` file that is not a readable PyTorch state dict."""


class _StorageType:
    """What ``torch.<X>Storage`` unpickles to here: only its element dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


class _Tensor:
    """A tensor before its storage bytes are attached (legacy files store them last)."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

    def to_numpy(self, name):
        flat = self.storage.array(name)
        if not self.size:
            return flat[self.offset : self.offset + 1].reshape(()).copy()
        extent = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride)) + 1
        if self.offset < 0 or min(self.stride) < 0 or extent > flat.size:
            raise PthError(f"{name}: its shape and strides reach past its storage")
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset :], self.size, [s * itemsize for s in self.stride], writeable=False
        )
        return np.array(view)


class _Storage:
    def __init__(self, dtype, key, numel):
        self.dtype, self.key, self.numel = dtype, str(key), int(numel)
        self.data = None

    def array(self, name):
        if self.data is None:
            raise PthError(f"{name}: its storage {self.key!r} is missing from the file")
        return self.data


def _rebuild_tensor(storage, offset, size, stride, *unused):
    if not isinstance(storage, _Storage):
        raise PthError("a tensor refers to something that is not a storage")
    return _Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *unused):
    return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, storages, source, tensors=None):
        super().__init__(file)
        self._storages, self._source, self._tensors = storages, source, tensors

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if module == "torch" and name.removesuffix("Tensor") + "Storage" in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name.removesuffix("Tensor") + "Storage"])
        raise PthError(
            f"{self._source} names {module}.{name}, which a state dict never needs; refusing "
            "to load it (a pickle can run code). Load only weights from sources you trust, "
            "saved as model.state_dict()"
        )

    def persistent_load(self, pid):
        if self._tensors is not None:  # The tar format names tensors by key.
            if isinstance(pid, tuple):  # A module's source: a state dict has none.
                return pid[0]
            if pid not in self._tensors:
                raise PthError(f"{self._source}: unknown tensor {str(pid)[:40]!r}")
            return self._tensors[pid]
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise PthError(f"{self._source}: unknown persistent id {str(pid)[:60]!r}")
        storage_type, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(storage_type, _StorageType):
            raise PthError(f"{self._source}: storage {key!r} has no known element type")
        if len(pid) > 5 and pid[5] is not None:
            raise PthError(f"{self._source}: storage views (torch < 0.4) are not supported")
        if key not in self._storages:
            self._storages[key] = _Storage(storage_type.dtype, key, numel)
        return self._storages[key]


def _unpickle(data, storages, source, tensors=None):
    try:
        return _SafeUnpickler(io.BytesIO(data), storages, source, tensors).load()
    except PthError:
        raise
    except Exception as e:  # noqa: BLE001 (any malformed pickle: one clear message)
        problem = f"{type(e).__name__}: {e}"
        raise PthError(f"{source} is damaged or not a PyTorch file ({problem})") from None


def _read_zip(path):
    storages = {}
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pickles) != 1:
            raise PthError(f"{path} is a zip without one data.pkl: not a PyTorch file")
        prefix = pickles[0][: -len("data.pkl")]
        byteorder = prefix + "byteorder"
        if byteorder in names and z.read(byteorder).strip() not in (b"little", b""):
            raise PthError(f"{path} was saved big-endian; re-save it on a little-endian machine")
        obj = _unpickle(z.read(pickles[0]), storages, path)
        for storage in storages.values():
            member = f"{prefix}data/{storage.key}"
            if member not in names:
                raise PthError(f"{path} lacks {member}")
            _attach(storage, z.read(member), path)
    return obj


def _attach(storage, raw, source):
    need = storage.numel * storage.dtype.itemsize
    if len(raw) < need:
        raise PthError(f"{source}: storage {storage.key!r} is truncated")
    storage.data = np.frombuffer(raw[:need], storage.dtype.newbyteorder("<"))


def _read_legacy(path):
    with open(path, "rb") as f:
        data = f.read()
    stream = io.BytesIO(data)

    def plain_pickle():
        return _SafeUnpickler(stream, {}, path).load()

    try:
        if plain_pickle() != _LEGACY_MAGIC:
            raise PthError(f"{path} is not a PyTorch file (no magic number)")
        plain_pickle()  # Protocol version.
        plain_pickle()  # System info: endianness and type sizes.
    except PthError:
        raise
    except Exception as e:  # noqa: BLE001
        raise PthError(f"{path} is not a PyTorch file ({type(e).__name__})") from None
    storages = {}
    start = stream.tell()
    unpickler = _SafeUnpickler(stream, storages, path)
    try:
        obj = unpickler.load()
        keys = _SafeUnpickler(stream, {}, path).load()
    except PthError:
        raise
    except Exception as e:  # noqa: BLE001
        raise PthError(f"{path} is damaged ({type(e).__name__} after byte {start})") from None
    for key in keys:
        storage = storages.get(str(key))
        header = stream.read(8)
        if storage is None or len(header) < 8:
            raise PthError(f"{path} is damaged: storage {key!r} is missing or unexpected")
        numel = struct.unpack("<q", header)[0]
        raw = stream.read(numel * storage.dtype.itemsize)
        storage.numel = numel
        _attach(storage, raw, path)
    return obj


def _read_tar(path):
    def records(stream):
        return _SafeUnpickler(stream, {}, path).load()

    try:
        with tarfile.open(path, "r:") as tar:
            storages, tensors = {}, {}
            stream = io.BytesIO(tar.extractfile("storages").read())
            for _ in range(records(stream)):
                key, _, storage_type = records(stream)
                if not isinstance(storage_type, _StorageType):
                    raise PthError(f"{path}: storage {key!r} has no known element type")
                storage = _Storage(storage_type.dtype, key, 0)
                storage.numel = struct.unpack("<q", stream.read(8))[0]
                _attach(storage, stream.read(storage.numel * storage.dtype.itemsize), path)
                storages[key] = storage
            if records(stream):
                raise PthError(f"{path}: storage views (torch < 0.4) are not supported")
            stream = io.BytesIO(tar.extractfile("tensors").read())
            for _ in range(records(stream)):
                key, storage_key, _ = records(stream)
                (rank,) = struct.unpack("<i", stream.read(4))
                stream.read(4)  # The rank was once 8 bytes wide.
                size = struct.unpack(f"<{rank}q", stream.read(8 * rank))
                stride = struct.unpack(f"<{rank}q", stream.read(8 * rank))
                (offset,) = struct.unpack("<q", stream.read(8))
                if storage_key not in storages:
                    raise PthError(f"{path}: tensor {key!r} names a missing storage")
                tensors[key] = _Tensor(storages[storage_key], offset, size, stride)
            data = tar.extractfile("pickle").read()
    except PthError:
        raise
    except (KeyError, AttributeError, struct.error, tarfile.TarError, ValueError) as e:
        raise PthError(f"{path} is a damaged tar-format PyTorch file ({e})") from None
    return _unpickle(data, {}, path, tensors)


def load_state_dict(path):
    """The tensors of a ``.pth`` file, by key.

    Args:
        path: a file written by ``torch.save(model.state_dict(), path)``, in either format,
            or a dict holding one under "state_dict" or "model".

    Returns:
        dict {key: NumPy array of the tensor's dtype and shape}, in the file's order.

    Raises:
        PthError: not a PyTorch file, damaged, or naming anything a state dict never needs.
    """
    path = str(path)
    if zipfile.is_zipfile(path):
        obj = _read_zip(path)
    elif tarfile.is_tarfile(path):
        obj = _read_tar(path)
    else:
        obj = _read_legacy(path)
    if isinstance(obj, dict) and not any(isinstance(v, _Tensor) for v in obj.values()):
        for wrapper in ("state_dict", "model"):
            if isinstance(obj.get(wrapper), dict):
                obj = obj[wrapper]
                break
    if not isinstance(obj, dict):
        raise PthError(f"{path} holds a {type(obj).__name__}, not a state dict")
    tensors = {}
    for key, value in obj.items():
        if isinstance(value, _Tensor):
            tensors[str(key)] = value.to_numpy(f"{path}: {key}")
    if not tensors:
        raise PthError(f"{path} holds no tensors")
    return tensors
