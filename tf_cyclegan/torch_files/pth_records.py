"""What a ``.pth`` pickle may build: lazy tensors over storages, and the unpickler that allows
nothing else.

Unpickling runs whatever callables a file names. ``SafeUnpickler`` resolves only the few
names a state dict needs (an ordered dict, the tensor-rebuild functions, storage types) to
functions of this module, and refuses every other name before anything is called.

A tensor's bytes are read only when it is loaded, and only after its shape is checked against
its storage: a file of a few KB can declare any shape, stride or storage size, so nothing is
allocated from what a file declares before it is shown to fit what the file holds.
"""

import collections
import io
import math
import pickle

import numpy as np

from tf_cyclegan.common import errors

STORAGE_DTYPES = {
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


class StorageType:
    """What ``torch.<X>Storage`` unpickles to here: only its element dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)


def _ints(values, what, name):
    if not isinstance(values, (tuple, list)) or not all(isinstance(v, int) for v in values):
        raise PthError(f"{name}: its {what} is not a list of integers")
    return tuple(values)


class Storage:
    """A run of elements in the file.

    Attributes:
        dtype: the element type; numel: the element count the file declares (untrusted);
        read: set by the format's reader: (first byte, byte count) -> at most that many bytes.
    """

    def __init__(self, dtype, key, numel):
        self.dtype, self.key = dtype, str(key)
        if not isinstance(numel, int) or numel < 0:
            raise PthError(f"storage {self.key!r} declares {numel!r} elements")
        self.numel = numel
        self.read = None

    def array(self, start, count, name):
        """Elements ``start`` to ``start + count`` (little-endian, read-only); reads no others."""
        if self.read is None:
            raise PthError(f"{name}: its storage {self.key!r} is missing from the file")
        itemsize = self.dtype.itemsize
        raw = self.read(start * itemsize, count * itemsize)
        if len(raw) < count * itemsize:
            raise PthError(f"{name}: storage {self.key!r} is truncated")
        return np.frombuffer(raw, self.dtype.newbyteorder("<"), count)


def _distinct(shape, stride):
    """Whether every index of ``shape`` reaches its own element: taken by increasing stride,
    each dimension's stride must step past everything the smaller ones reach."""
    reach = 1
    for n, s in sorted(((n, s) for n, s in zip(shape, stride) if n > 1), key=lambda d: d[1]):
        if s < reach:
            return False
        reach += (n - 1) * s
    return True


class Tensor:
    """A tensor as its file describes it; ``check`` validates it, ``load`` reads it.

    Attributes (after ``check``):
        shape: tuple of non-negative ints; dtype: NumPy dtype; size: element count.
    """

    def __init__(self, storage, offset, size, stride):
        self.storage, self._offset, self._shape, self._stride = storage, offset, size, stride
        self.dtype = getattr(storage, "dtype", None)
        self.shape = self.stride = self.offset = self.size = None

    def check(self, name):
        """Raises PthError unless the tensor lies within its storage, one element per element.

        A tensor may be a view into a larger storage, at an offset and with strides that
        skip elements (a slice saved as it was: GAN Compression's pruned networks hold such
        views). Its elements must be distinct: stride-0 (expanded) or overlapping strides
        repeat elements, which a state dict never holds, and a few bytes could declare any
        number of elements with them.
        """
        if not isinstance(self.storage, Storage):
            raise PthError(f"{name} refers to something that is not a storage")
        shape = _ints(self._shape, "shape", name)
        stride = _ints(self._stride, "strides", name)
        (offset,) = _ints((self._offset,), "offset", name)
        if len(stride) != len(shape):
            raise PthError(f"{name}: {len(shape)} dimensions but {len(stride)} strides")
        if any(n < 0 for n in shape):
            raise PthError(f"{name}: shape {list(shape)} has a negative dimension")
        if offset < 0 or any(s < 0 for s in stride):
            raise PthError(f"{name}: negative offset or strides")
        size, numel = math.prod(shape), self.storage.numel
        span = sum((n - 1) * s for n, s in zip(shape, stride)) + 1 if size else 0
        if size > numel:
            raise PthError(
                f"{name}: shape {list(shape)} needs {size} elements; its storage "
                f"{self.storage.key!r} holds {numel}"
            )
        if offset + span > numel:
            raise PthError(
                f"{name}: at offset {offset} with strides {list(stride)} it reaches past its "
                f"storage {self.storage.key!r} of {numel} elements"
            )
        if size and not _distinct(shape, stride):
            raise PthError(
                f"{name}: strides {list(stride)} repeat elements; a state dict's never do"
            )
        self.shape, self.stride, self.offset, self.size = shape, stride, offset, size
        self.span = span

    def load(self, name="a tensor"):
        """The tensor as a new NumPy array of ``dtype`` and ``shape``."""
        self.check(name)
        if self.size == 0:
            return np.zeros(self.shape, self.dtype)
        flat = self.storage.array(self.offset, self.span, name)
        itemsize = flat.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat, self.shape, [s * itemsize for s in self.stride], writeable=False
        )
        return np.array(view)


def _rebuild_tensor(storage, offset, size, stride, *unused):
    return Tensor(storage, offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *unused):
    return data


class ScriptObject:
    """A TorchScript module or object as its archive records it: a class name and attributes.

    The archive's ``code/`` (the class's methods) is never read, let alone run: the object is
    inert data, and what a caller uses is its ``attributes`` (tensors, numbers, sub-objects).
    """

    qualified_name = None

    def __setstate__(self, state):
        if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
            raise ValueError(f"a {self.qualified_name} record holds no attribute dict")
        self.attributes = state


_SCRIPT_CLASSES = {}


def _script_class(qualified_name):
    """One inert ``ScriptObject`` subclass per TorchScript class name."""
    if qualified_name not in _SCRIPT_CLASSES:
        _SCRIPT_CLASSES[qualified_name] = type(
            "ScriptObject", (ScriptObject,), {"qualified_name": qualified_name}
        )
    return _SCRIPT_CLASSES[qualified_name]


def _build_list(kind):
    def build(values):
        if not isinstance(values, list) or not all(isinstance(v, kind) for v in values):
            raise PthError(f"a TorchScript list of {kind.__name__} holds something else")
        return values

    return build


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    # TorchScript archives record typed lists (a pooling's kernel size) with these.
    ("torch.jit._pickle", "build_intlist"): _build_list(int),
    ("torch.jit._pickle", "build_doublelist"): _build_list(float),
    ("torch.jit._pickle", "build_boollist"): _build_list(bool),
}


class SafeUnpickler(pickle.Unpickler):
    """Builds only dicts, tensors, storage records and inert TorchScript objects; refuses any
    other name by name.

    Args:
        file: a binary stream at a pickle.
        storages: {key: Storage}, filled with the storages the pickle names (zip, legacy).
        source: the file's path, for messages.
        tensors: {key: Tensor} for the tar format, whose pickle names tensors by key.
    """

    def __init__(self, file, storages, source, tensors=None):
        super().__init__(file)
        self._storages, self._source, self._tensors = storages, source, tensors

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(STORAGE_DTYPES[name])
        if module == "torch" and name.removesuffix("Tensor") + "Storage" in STORAGE_DTYPES:
            return StorageType(STORAGE_DTYPES[name.removesuffix("Tensor") + "Storage"])
        if module.startswith("__torch__.") or module == "__torch__":
            # TorchScript's own namespace: classes compiled into the archive, never importable.
            return _script_class(f"{module}.{name}")
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
        if not isinstance(storage_type, StorageType):
            raise PthError(f"{self._source}: storage {key!r} has no known element type")
        if len(pid) > 5 and pid[5] is not None:
            raise PthError(f"{self._source}: storage views (torch < 0.4) are not supported")
        if key not in self._storages:
            self._storages[key] = Storage(storage_type.dtype, key, numel)
        return self._storages[key]


def unpickle(data, storages, source, tensors=None):
    """``SafeUnpickler(...).load()`` of ``data`` (bytes, or a binary stream at a pickle, left
    just after it); any failure is one PthError."""
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        return SafeUnpickler(stream, storages, source, tensors).load()
    except PthError:
        raise
    except Exception as e:  # noqa: BLE001 (any malformed pickle: one clear message)
        problem = f"{type(e).__name__}: {e}"
        raise PthError(f"{source} is damaged or not a PyTorch file ({problem})") from None
