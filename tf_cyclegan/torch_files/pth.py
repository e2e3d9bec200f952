"""Reads PyTorch ``.pth`` state dicts into NumPy arrays, without PyTorch and without running code.

Four on-disk formats exist:

- zip (``torch.save`` since 1.6): ``<name>/data.pkl`` pickles the dict, each tensor's storage
  is the raw little-endian file ``<name>/data/<key>``.
- legacy (before 1.6, and ``_use_new_zipfile_serialization=False``): five pickles in a row
  (magic number, protocol version, system info, the dict, the storage keys), then each
  storage as an int64 element count and its raw bytes.
- TorchScript (``torch.jit.save``): the zip format, whose ``data.pkl`` pickles the module
  itself (objects of classes compiled into the archive's ``code/``, holding tensors as
  attributes); read here as the state dict its tensors make, named by attribute path
  (``net.layers.conv.weight``). The code and ``constants.pkl`` are never read.
- tar (the first PyTorch releases): members ``storages`` (a count, then per storage a pickled
  (key, location, type), an int64 count and the bytes), ``tensors`` (a count, then per tensor
  a pickled (key, storage key, type) and its int32 rank, 4 pad bytes, int64 sizes, strides
  and offset) and ``pickle`` (the dict, naming tensors by key).

Every file is untrusted: pickles go through ``pth_records.SafeUnpickler``; shapes are checked
against their storages before any tensor's bytes are read; a storage is read only as far as
its tensors reach, so a compressed member cannot expand past what the tensors need.
"""

import contextlib
import io
import struct
import tarfile
import zipfile

from tf_cyclegan.torch_files import pth_records
from tf_cyclegan.torch_files.pth_records import PthError, SafeUnpickler, Storage, Tensor, unpickle

__all__ = ["PthError", "Tensor", "load_state_dict", "open_state_dict"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
# A state dict's pickle holds names and shapes, ~100 bytes a tensor.
_MAX_PICKLE_BYTES = 64 << 20
# load_state_dict's default bound on all tensors together: 1 GiB of float32, twice the
# largest official generator (U-Net-256 at ngf 128). Importers pass their own.
MAX_ELEMENTS = 1 << 28


def _read_zip(path, stack):
    storages = {}
    z = stack.enter_context(zipfile.ZipFile(path))
    names = set(z.namelist())
    pickles = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
    if len(pickles) != 1:
        raise PthError(f"{path} is a zip without one data.pkl: not a PyTorch file")
    prefix = pickles[0][: -len("data.pkl")]

    def read(member, limit, start=0):
        with z.open(member) as f:
            f.seek(start)  # Decompresses what it skips in bounded chunks.
            return f.read(limit)

    byteorder = prefix + "byteorder"
    if byteorder in names and read(byteorder, 16).strip() not in (b"little", b""):
        raise PthError(f"{path} was saved big-endian; re-save it on a little-endian machine")
    if z.getinfo(pickles[0]).file_size > _MAX_PICKLE_BYTES:
        raise PthError(f"{path}: {pickles[0]} is too large for a state dict")
    obj = unpickle(read(pickles[0], _MAX_PICKLE_BYTES), storages, path)
    for storage in storages.values():
        member = f"{prefix}data/{storage.key}"
        if member not in names:
            raise PthError(f"{path} lacks {member}")
        # Only the bytes asked for: the member's declared size is as untrusted as the rest.
        storage.read = lambda start, nbytes, member=member: read(member, nbytes, start)
    return obj


def _read_legacy(path, stack):
    del stack  # The stream is in memory.
    with open(path, "rb") as f:
        data = f.read()
    stream = io.BytesIO(data)
    if unpickle(stream, {}, path) != _LEGACY_MAGIC:
        raise PthError(f"{path} is not a PyTorch file (no magic number)")
    unpickle(stream, {}, path)  # Protocol version.
    unpickle(stream, {}, path)  # System info: endianness and type sizes.
    storages = {}
    obj = unpickle(stream, storages, path)
    keys = unpickle(stream, {}, path)
    if not isinstance(keys, list):
        raise PthError(f"{path} is damaged: no list of storage keys")
    for key in keys:
        storage = storages.get(str(key))
        header = stream.read(8)
        if storage is None or len(header) < 8:
            raise PthError(f"{path} is damaged: storage {key!r} is missing or unexpected")
        if struct.unpack("<q", header)[0] != storage.numel:
            raise PthError(f"{path} is damaged: storage {key!r} has another size than declared")
        start = stream.tell()
        storage.read = lambda first, n, start=start: data[start + first : start + first + n]
        stream.seek(start + storage.numel * storage.dtype.itemsize)
    return obj


def _read_tar(path, stack):
    def records(stream):
        return SafeUnpickler(stream, {}, path).load()

    tar = stack.enter_context(tarfile.open(path, "r:"))
    stream = tar.extractfile("storages")
    storages, tensors = {}, {}
    for _ in range(records(stream)):
        key, _, storage_type = records(stream)
        if not isinstance(storage_type, pth_records.StorageType):
            raise PthError(f"{path}: storage {key!r} has no known element type")
        storage = Storage(storage_type.dtype, key, struct.unpack("<q", stream.read(8))[0])
        start = stream.tell()

        def read(first, nbytes, stream=stream, start=start):
            stream.seek(start + first)
            return stream.read(nbytes)

        storage.read = read
        stream.seek(start + storage.numel * storage.dtype.itemsize)
        storages[key] = storage
    if records(stream):
        raise PthError(f"{path}: storage views (torch < 0.4) are not supported")
    stream = io.BytesIO(tar.extractfile("tensors").read(_MAX_PICKLE_BYTES))
    for _ in range(records(stream)):
        key, storage_key, _ = records(stream)
        (rank,) = struct.unpack("<i", stream.read(4))
        stream.read(4)  # The rank was once 8 bytes wide.
        size = struct.unpack(f"<{rank}q", stream.read(8 * rank))
        stride = struct.unpack(f"<{rank}q", stream.read(8 * rank))
        (offset,) = struct.unpack("<q", stream.read(8))
        if storage_key not in storages:
            raise PthError(f"{path}: tensor {key!r} names a missing storage")
        tensors[key] = Tensor(storages[storage_key], offset, size, stride)
    return unpickle(tar.extractfile("pickle").read(_MAX_PICKLE_BYTES), {}, path, tensors)


# Deeper nesting than any real module tree: a file that recurses is refused, not followed.
_MAX_MODULE_DEPTH = 64


def _script_tensors(root, path):
    """{dotted attribute path: Tensor} of a TorchScript module tree, in attribute order."""
    tensors, seen = {}, set()

    def visit(obj, prefix, depth):
        if depth > _MAX_MODULE_DEPTH or id(obj) in seen:
            raise PthError(f"{path}: its module tree nests too deep or refers to itself")
        seen.add(id(obj))
        for name, value in obj.attributes.items():
            if isinstance(value, Tensor):
                tensors[prefix + name] = value
            elif isinstance(value, pth_records.ScriptObject):
                visit(value, f"{prefix}{name}.", depth + 1)

    visit(root, "", 0)
    return tensors


def _read(path, stack):
    if zipfile.is_zipfile(path):
        return _read_zip(path, stack)
    if tarfile.is_tarfile(path):
        try:
            return _read_tar(path, stack)
        except PthError:
            raise
        except (KeyError, AttributeError, struct.error, tarfile.TarError, ValueError) as e:
            raise PthError(f"{path} is a damaged tar-format PyTorch file ({e})") from None
    return _read_legacy(path, stack)


@contextlib.contextmanager
def open_state_dict(path):
    """The tensors of a ``.pth`` file, by key, before any of their bytes are read.

    Each tensor's shape and dtype can be checked (against an architecture) before its
    ``load()`` reads it; the file stays open inside the ``with`` block.

    Args:
        path: a file written by ``torch.save(model.state_dict(), path)``, in any of the three
            formats, or a dict holding one under "state_dict" or "model", or a TorchScript
            module (``torch.jit.save``), whose tensors are named by attribute path.

    Yields:
        dict {key: ``Tensor`` (``shape``, ``dtype``, ``size``, ``load()``)}, in file order;
        each already checked to lie within its storage.

    Raises:
        PthError: not a PyTorch file, damaged, or naming anything a state dict never needs.
    """
    path = str(path)
    with contextlib.ExitStack() as stack:
        try:
            obj = _read(path, stack)
        except (OSError, zipfile.BadZipFile, EOFError, struct.error) as e:
            raise PthError(f"{path} is damaged or not a PyTorch file ({e})") from None
        if isinstance(obj, pth_records.ScriptObject):
            obj = _script_tensors(obj, path)
        if isinstance(obj, dict) and not any(isinstance(v, Tensor) for v in obj.values()):
            for wrapper in ("state_dict", "model"):
                if isinstance(obj.get(wrapper), dict):
                    obj = obj[wrapper]
                    break
        if not isinstance(obj, dict):
            raise PthError(f"{path} holds a {type(obj).__name__}, not a state dict")
        tensors = {str(k): v for k, v in obj.items() if isinstance(v, Tensor)}
        if not tensors:
            raise PthError(f"{path} holds no tensors")
        for key, tensor in tensors.items():
            tensor.check(f"{path}: {key}")
        yield tensors


def load(path, tensors, max_elements=MAX_ELEMENTS):
    """{key: NumPy array} of ``tensors`` (from ``open_state_dict(path)``), if reading them
    takes at most ``max_elements`` elements together (a view into a larger storage reads the
    elements it skips too); raises PthError before reading otherwise."""
    total = sum(max(t.size, t.span) for t in tensors.values())
    if total > max_elements:
        raise PthError(
            f"{path} declares {total} elements, more than the {max_elements} expected: "
            "not a model this program reads"
        )
    return {key: tensor.load(f"{path}: {key}") for key, tensor in tensors.items()}


def load_state_dict(path, max_elements=MAX_ELEMENTS):
    """The tensors of a ``.pth`` file, by key (see ``open_state_dict``).

    Returns:
        dict {key: NumPy array of the tensor's dtype and shape}, in the file's order.

    Raises:
        PthError: as ``open_state_dict``, or the tensors hold over ``max_elements``.
    """
    with open_state_dict(path) as tensors:
        return load(path, tensors, max_elements)
