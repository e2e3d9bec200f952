r"""NEEDS PYTORCH (torch==2.13.0+cpu). Writes the committed fixtures of tests/pretrained_test.py.

  pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu
  python tools/make_torch_fixtures.py      # rewrites tests/fixtures/pretrained/

Tiny official-layout generators (tools/torch_reference.py) saved in both ``.pth`` formats,
with an input batch and PyTorch's outputs as ``.npy``, so the tests check the import
against PyTorch itself without PyTorch installed:

- resnet_6blocks, ngf 4, no dropout: ``resnet.pth`` (zip) and ``resnet_legacy.pth``;
  inputs 32x32 and 24x40 (non-square);
- resnet_6blocks, ngf 2, with dropout (shifts the block keys): ``resnet_dropout.pth``;
- unet_128, ngf 2: ``unet.pth`` (zip) and ``unet_legacy.pth``; input 128x128;
- ``resnet_module_prefix.pth``: the ResNet as ``nn.DataParallel`` saves it (``module.``) with
  the stale InstanceNorm running statistics that PyTorch 0.4 wrote.
- ``resnet_tar.pth``: the ResNet in the tar format of the first PyTorch releases, which no
  current PyTorch writes: written here member by member as ``torch.serialization``'s
  ``legacy_load`` reads it, and checked by loading it with that PyTorch.
"""

import collections
import io
import os
import pickle
import struct
import sys
import tarfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "pretrained")


def _images(seed, height, width, count=2):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (count, height, width, 3)).astype(np.float32)


def _save(state, name, legacy=False):
    torch.save(state, os.path.join(OUT, name), _use_new_zipfile_serialization=not legacy)


class _TensorRef:
    def __init__(self, key):
        self.key = key


class _TarPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.key if isinstance(obj, _TensorRef) else None


def _save_tar(state, path):
    """``state`` in the pre-2017 tar format (one storage per tensor)."""
    storages, tensors = io.BytesIO(), io.BytesIO()
    pickle.dump(len(state), storages, protocol=2)
    pickle.dump(len(state), tensors, protocol=2)
    refs = collections.OrderedDict()
    for index, (name, tensor) in enumerate(state.items()):
        data = tensor.detach().contiguous().numpy().astype("<f4")
        storage_key, tensor_key = 1000 + index, index
        pickle.dump((storage_key, "cpu", torch.FloatStorage), storages, protocol=2)
        storages.write(struct.pack("<q", data.size) + data.tobytes())
        pickle.dump((tensor_key, storage_key, torch.FloatTensor), tensors, protocol=2)
        tensors.write(struct.pack("<i", data.ndim) + b"\0" * 4)
        strides = [s // 4 for s in data.strides]
        tensors.write(struct.pack(f"<{data.ndim}q", *data.shape))
        tensors.write(struct.pack(f"<{data.ndim}q", *strides) + struct.pack("<q", 0))
        refs[name] = _TensorRef(tensor_key)
    pickle.dump([], storages, protocol=2)  # No storage views.
    main_pickle = io.BytesIO()
    _TarPickler(main_pickle, protocol=2).dump(refs)
    with tarfile.open(path, "w:", format=tarfile.PAX_FORMAT) as tar:
        for member, stream in (
            ("sys_info", io.BytesIO(pickle.dumps({"little_endian": True}, protocol=2))),
            ("storages", storages),
            ("tensors", tensors),
            ("pickle", main_pickle),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(stream.getvalue())
            tar.addfile(info, io.BytesIO(stream.getvalue()))
    loaded = torch.load(path, weights_only=False)  # PyTorch's own tar reader is the check.
    assert all(torch.equal(loaded[k], v) for k, v in state.items()), "tar fixture is wrong"


def main():
    os.makedirs(OUT, exist_ok=True)
    resnet = torch_reference.build("resnet_6blocks", ngf=4, seed=1)
    _save(resnet.state_dict(), "resnet.pth")
    _save(resnet.state_dict(), "resnet_legacy.pth", legacy=True)
    for name, (height, width) in {"square": (32, 32), "wide": (24, 40)}.items():
        images = _images(2, height, width)
        np.save(os.path.join(OUT, f"resnet_{name}_inputs.npy"), images)
        outputs = torch_reference.translate(resnet, images)
        np.save(os.path.join(OUT, f"resnet_{name}_outputs.npy"), outputs)

    dropout = torch_reference.build("resnet_6blocks", ngf=2, dropout=True, seed=3)
    _save(dropout.state_dict(), "resnet_dropout.pth")
    images = _images(4, 32, 32)
    np.save(os.path.join(OUT, "resnet_dropout_inputs.npy"), images)
    outputs = torch_reference.translate(dropout, images)
    np.save(os.path.join(OUT, "resnet_dropout_outputs.npy"), outputs)

    unet = torch_reference.build("unet_128", ngf=2, seed=5)
    _save(unet.state_dict(), "unet.pth")
    _save(unet.state_dict(), "unet_legacy.pth", legacy=True)
    images = _images(6, 128, 128, count=1)
    np.save(os.path.join(OUT, "unet_inputs.npy"), images)
    np.save(os.path.join(OUT, "unet_outputs.npy"), torch_reference.translate(unet, images))

    prefixed = {f"module.{k}": v for k, v in resnet.state_dict().items()}
    prefixed["module.model.2.running_mean"] = torch.zeros(4)
    prefixed["module.model.2.running_var"] = torch.ones(4)
    _save(prefixed, "resnet_module_prefix.pth", legacy=True)
    _save_tar(resnet.state_dict(), os.path.join(OUT, "resnet_tar.pth"))
    for name in sorted(os.listdir(OUT)):
        print(f"{os.path.getsize(os.path.join(OUT, name)):>9,d}  {name}")


if __name__ == "__main__":
    main()
