"""Hostile ``.pth`` files: refused in one line, before they make the reader allocate.

Each file is a few KB (the bomb ~256 KB) and declares far more than it holds. Before the
reader checked shapes against storages and read members only as far as a tensor reaches, the
stride-0 file took 1.5 GB, the bomb 512 MB, and a negative shape ended in a traceback.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pth_forge
import tensorflow as tf
from absl.testing import parameterized

from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.torch_files import pth

_BOMB_BYTES = 256 << 20  # What the deflated member expands to; the tensor needs 16 bytes.
# A refused file may cost the parser's own buffers (zipfile seeks in 16 MB chunks), never
# what the file declares: every case below declares >= 256 MB.
_MEMORY_SLACK_MB = 100

# name: (form, tensors, storages, message). Tensors: key -> (storage, declared numel,
# offset, shape, stride).
CORPUS = {
    "stride_0_expansion": (
        "zip",
        {"w": ("0", 1, 0, (20000, 20000), (0, 0))},
        {"0": bytes(4)},
        r"needs 400000000 elements; its storage '0' holds 1",
    ),
    "stride_0_2_pow_18": (
        "zip",
        {"w": ("0", 1, 0, (1 << 18, 1 << 18), (0, 0))},
        {"0": bytes(4)},
        "holds 1",
    ),
    "overlapping_strides": (
        "zip",
        {"w": ("0", 1 << 16, 0, (1 << 8, 1 << 8), (1, 1))},
        {"0": bytes(1 << 18)},
        "repeat elements",
    ),
    "negative_shape": (
        "zip",
        {"w": ("0", 12, 0, (-3, 4), (4, 1))},
        {"0": bytes(48)},
        "negative dimension",
    ),
    "offset_past_storage": (
        "zip",
        {"w": ("0", 100, 1 << 40, (4,), (1,))},
        {"0": bytes(16)},
        "reaches past its storage",
    ),
    "declared_but_absent": (
        "zip",
        {"w": ("0", 1 << 27, 0, (1 << 27,), (1,))},
        {"0": bytes(16)},
        "truncated",
    ),
    "legacy_stride_0": (
        "legacy",
        {"w": ("0", 1, 0, (20000, 20000), (0, 0))},
        {"0": (1, bytes(4))},
        "holds 1",
    ),
    "legacy_size_mismatch": (
        "legacy",
        {"w": ("0", 4, 0, (4,), (1,))},
        {"0": (-(1 << 40), bytes(16))},
        "another size than declared",
    ),
}


def _write(directory, name):
    form, tensors, storages, _ = CORPUS[name]
    path = os.path.join(directory, f"{name}.pth")
    (pth_forge.write_zip if form == "zip" else pth_forge.write_legacy)(path, tensors, storages)
    return path


def _bomb(directory, offset=0):
    """A zip .pth whose 4-element tensor's member inflates to _BOMB_BYTES of zeros."""
    path = os.path.join(directory, f"bomb_{offset}.pth")
    numel = _BOMB_BYTES // 4
    tensors = {"w": ("0", numel, offset, (4,), (1,))}
    pth_forge.write_zip(path, tensors, {"0": _BOMB_BYTES}, compress=True)
    return path


class HostilePthTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(*CORPUS)
    def test_refused_with_a_message_naming_the_file(self, name):
        path = _write(self.get_temp_dir(), name)
        with self.assertRaisesRegex(pth.PthError, CORPUS[name][3]) as caught:
            pth.load_state_dict(path)
        self.assertIn(path, str(caught.exception))

    @parameterized.parameters(0, _BOMB_BYTES // 4 - 4)
    def test_a_deflate_bomb_is_read_only_as_far_as_its_tensor(self, offset):
        tensors = pth.load_state_dict(_bomb(self.get_temp_dir(), offset))
        self.assertAllEqual(tensors["w"], np.zeros(4, np.float32))

    def test_peak_memory_stays_near_the_baseline(self):
        directory = self.get_temp_dir()
        paths = [_write(directory, name) for name in CORPUS]
        paths += [_bomb(directory), _bomb(directory, _BOMB_BYTES // 4 - 4)]
        script = (
            "import json, resource, sys\n"
            "from tf_cyclegan.torch_files import pth\n"
            "peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "base = peak()\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n"
            "        pth.load_state_dict(path)\n"
            "    except pth.PthError:\n"
            "        pass\n"
            "print(json.dumps((peak() - base) // 1024))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", script, *paths], capture_output=True, text=True, check=True
        )
        self.assertLess(json.loads(result.stdout), _MEMORY_SLACK_MB, result.stderr)

    def test_the_importer_checks_the_layout_before_reading_a_byte(self):
        # Official keys and shapes, except one tensor declared as if ngf were 4096, whose
        # bytes the file does not even hold: a reader that reads before checking says
        # "truncated" (or allocates) instead of naming the shape.
        path = os.path.join(self.get_temp_dir(), "wide.pth")
        official_shapes = import_torch_lib.official.expected_shapes("resnet_6blocks", 4)
        tensors, storages = {}, {}
        for i, (key, shape) in enumerate(official_shapes.items()):
            if key == "model.4.weight":
                shape = (8192, 4096, 3, 3)
            size = int(np.prod(shape))
            strides = tuple(int(np.prod(shape[d + 1 :])) for d in range(len(shape)))
            tensors[key] = (str(i), size, 0, shape, strides)
            storages[str(i)] = bytes(4 * size) if key != "model.4.weight" else b""
        pth_forge.write_zip(path, tensors, storages)
        model_dir = os.path.join(self.get_temp_dir(), "run")
        config = import_torch_lib.ImportConfig(model_dir=model_dir, checkpoints={"a2b": path})
        with self.assertRaisesRegex(pth.PthError, r"model.4.weight has shape \[8192, 4096"):
            import_torch_lib.import_checkpoints(config)
        self.assertFalse(os.path.exists(model_dir))


if __name__ == "__main__":
    tf.test.main()
