"""An output folder a command cannot write is one line naming the option, before any work.

``/proc`` stands for every unwritable place (the tests run as root, whom permissions do
not stop; ``/proc`` refuses new folders to anyone). Before, train printed TensorFlow's
``NotFoundError: /proc/...`` traceback and the standalone script Pillow's
``FileNotFoundError``.
"""

import os

import tensorflow as tf
from absl.testing import parameterized
from PIL import Image

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.data import prepare_lib
from tf_cyclegan.exporting import export_lib
from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.serving import translate_lib
from tf_cyclegan.training import train_lib

UNWRITABLE = "/proc/tf_cyclegan_test/out"


def _image_folder(root):
    os.makedirs(root)
    Image.new("RGB", (32, 32), (200, 100, 50)).save(os.path.join(root, "a.png"))
    return root


def _dataset_tree(root):
    for split in ("trainA", "trainB", "testA", "testB"):
        _image_folder(os.path.join(root, split))
    return root


class UnwritableFolderTest(tf.test.TestCase, parameterized.TestCase):
    def _command(self, name, path):
        work = self.get_temp_dir()
        if name == "train":
            return lambda: train_lib.train(helpers.tiny_config(path))
        if name == "export":
            return lambda: export_lib.export(export_lib.ExportConfig(helpers.trained_run(), path))
        if name == "translate":
            folder = _image_folder(os.path.join(work, "photos"))
            return lambda: translate_lib.translate_paths(helpers.trained_run(), "a2b", folder, path)
        if name == "import_torch":
            pth = os.path.join(helpers.FIXTURES, "pretrained", "resnet.pth")
            config = import_torch_lib.ImportConfig(path, {"a2b": pth})
            return lambda: import_torch_lib.import_checkpoints(config)
        tree = _dataset_tree(os.path.join(work, "horse2zebra"))
        return lambda: prepare_lib.prepare("cycle_gan/horse2zebra", tree, path)

    @parameterized.parameters("train", "export", "translate", "import_torch", "prepare")
    def test_an_unwritable_place_is_one_line_naming_the_option(self, name):
        with self.assertRaisesRegex(errors.ConfigError, r"--\w+=/proc/\S+ cannot be written"):
            self._command(name, UNWRITABLE)()

    @parameterized.parameters("train", "export", "translate", "import_torch", "prepare")
    def test_a_path_under_a_file_is_named(self, name):
        blocker = os.path.join(self.get_temp_dir(), f"{name}_file")
        open(blocker, "w").close()
        with self.assertRaisesRegex(errors.ConfigError, f"{blocker} is a file"):
            self._command(name, os.path.join(blocker, "out"))()


class ProcessBoundaryTest(tf.test.TestCase):
    def test_train_exits_2_with_the_line_and_no_traceback(self):
        result = helpers.run_python(*helpers.smoke_train_command(UNWRITABLE)[1:])
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        self.assertIn(f"error: --model_dir={UNWRITABLE} cannot be written", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_the_standalone_script_names_a_missing_input_in_one_line(self):
        script = os.path.join(helpers.ROOT, "export", "translate_image.py")
        model = os.path.join(self.get_temp_dir(), "a2b.tflite")
        open(model, "wb").close()
        missing = os.path.join(self.get_temp_dir(), "missing.jpg")
        # As users run it: without the tests' sitecustomize (which loads TensorFlow).
        result = helpers.run_python(
            script,
            f"--model={model}",
            f"--input={missing}",
            "--output=/tmp/out.png",
            env=dict(os.environ),
        )
        self.assertEqual(result.returncode, 2)
        line = f"error: --input={missing} is not a file; pass an image"
        self.assertEqual(result.stderr.strip(), line)  # Nothing else: no notices, no traceback.


if __name__ == "__main__":
    tf.test.main()
