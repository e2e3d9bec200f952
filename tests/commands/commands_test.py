"""The prepare, evaluate, export and translate commands, in-process through main() and flags."""

import contextlib
import io
import json
import os
import tarfile
from unittest import mock

import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from absl import flags
from absl.testing import flagsaver, parameterized
from PIL import Image

import helpers
from tf_cyclegan import evaluate, export, import_torch, prepare, translate
from tf_cyclegan.common import reachability, run_dir
from tf_cyclegan.networks import restore
from tf_cyclegan.serving import litert

FLAGS = flags.FLAGS


def _run_main(module, **flag_values):
    """Runs ``module.main`` with ``flag_values`` set; returns what it printed."""
    out = io.StringIO()
    with flagsaver.flagsaver(**flag_values), contextlib.redirect_stdout(out):
        module.main([])
    return out.getvalue()


def _images(folder, count, size=(16, 16), seed=0):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        pixels = rng.integers(0, 255, (*size, 3), np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, f"{i}.png"))


def _NO_WEIGHTS_HOMES(empty):  # noqa: N802
    """Where Keras and PyTorch keep weights, pointed at an empty folder."""
    return {"KERAS_HOME": empty, "TORCH_HOME": empty}


class CommandTest(tf.test.TestCase, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not FLAGS.is_parsed():
            FLAGS.mark_as_parsed()


class PrepareTest(CommandTest):
    def _tree(self):
        root = os.path.join(self.create_tempdir().full_path, "horse2zebra")
        for split, count in (("trainA", 3), ("trainB", 2), ("testA", 2), ("testB", 1)):
            _images(os.path.join(root, split), count)
        return root

    @parameterized.parameters("folder", "tar.gz")
    def test_prepares_the_dataset_and_says_how_to_train(self, form):
        source = self._tree()
        if form == "tar.gz":
            archive = os.path.join(self.create_tempdir().full_path, "horse2zebra.tar.gz")
            with tarfile.open(archive, "w:gz") as t:
                t.add(source, arcname="horse2zebra")
            source = archive
        data_dir = self.create_tempdir().full_path
        printed = _run_main(
            prepare, dataset="cycle_gan/horse2zebra", source=source, data_dir=data_dir
        )
        builder = tfds.builder("cycle_gan/horse2zebra", data_dir=data_dir)
        self.assertTrue(builder.is_prepared())
        counts = {s: builder.info.splits[s].num_examples for s in ("trainA", "trainB", "testA")}
        self.assertEqual(counts, {"trainA": 3, "trainB": 2, "testA": 2})
        self.assertIn(f"--dataset=cycle_gan/horse2zebra --data_dir={data_dir}", printed)

    def test_tar_member_leaving_the_folder_is_refused(self):
        folder = self.create_tempdir().full_path
        archive, outside = os.path.join(folder, "evil.tar"), os.path.join(folder, "escaped.png")
        _images(os.path.join(folder, "x"), 1)
        with tarfile.open(archive, "w") as t:
            t.add(os.path.join(folder, "x", "0.png"), arcname="../escaped.png")
        with self.assertRaisesRegex(Exception, "unsafe member"):
            _run_main(prepare, dataset="cycle_gan/horse2zebra", source=archive, data_dir=folder)
        self.assertFalse(os.path.exists(outside))


class EvaluateTest(CommandTest):
    def test_prints_and_writes_every_metric_without_inception(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        printed = _run_main(evaluate, model_dir=model_dir, fid=False)
        with open(os.path.join(model_dir, run_dir.EVAL_FILE)) as f:
            written = json.load(f)
        for direction in ("a2b", "b2a"):
            for metric in ("cycle_mae", "psnr", "untranslated_psnr"):
                self.assertIn(f"{direction}/{metric}", written)
                self.assertIn(f"{direction}/{metric}", printed)
        self.assertNotIn("a2b/fid", written)

    def test_standard_weights_give_fid_and_kid_under_their_standard_names(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        printed = _run_main(evaluate, model_dir=model_dir, inception_weights=helpers.NARROW_FID_PTH)
        with open(os.path.join(model_dir, run_dir.EVAL_FILE)) as f:
            written = json.load(f)
        self.assertIn("Features: standard FID Inception", printed)
        for name in ("a2b/fid", "a2b/kid", "b2a/fid", "b2a/kid_std"):
            self.assertIn(name, written)
        self.assertFalse(any("keras" in name for name in written), written)

    def test_offline_without_weights_prints_what_it_can_and_says_how_to_get_fid(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        with (
            mock.patch.dict(
                os.environ, {"KERAS_HOME": self.get_temp_dir(), "TORCH_HOME": self.get_temp_dir()}
            ),
            mock.patch.object(reachability, "host_reachable", return_value=False),
        ):
            printed = _run_main(evaluate, model_dir=model_dir, fid=None)
        self.assertEqual(printed.count("FID/KID skipped"), 1)
        self.assertIn("--inception_weights=PATH", printed)
        self.assertIn("a2b/cycle_mae", printed)
        self.assertIn("b2a/psnr", printed)

    def test_offline_fid_that_cannot_be_computed_is_the_error(self):
        from tf_cyclegan.evaluation import inception

        model_dir = helpers.copy_run(helpers.trained_run())
        eval_file = os.path.join(model_dir, run_dir.EVAL_FILE)
        with open(eval_file) as f:
            before = f.read()  # Training's own evaluation.
        with (
            mock.patch.dict(
                os.environ, {"KERAS_HOME": self.get_temp_dir(), "TORCH_HOME": self.get_temp_dir()}
            ),
            mock.patch.object(reachability, "host_reachable", return_value=False),
        ):
            with self.assertRaisesRegex(inception.InceptionUnavailableError, "unreachable"):
                _run_main(evaluate, model_dir=model_dir, fid=True)
        with open(eval_file) as f:
            self.assertEqual(f.read(), before)


class ExportTest(CommandTest):
    def test_one_format_writes_only_that_format(self):
        export_dir = os.path.join(self.create_tempdir().full_path, "out")
        printed = _run_main(
            export,
            model_dir=helpers.trained_run(),
            export_dir=export_dir,
            formats=["saved_model"],
            parity_images=1,
        )
        self.assertIn("saved_model", printed)
        written = os.listdir(export_dir)
        self.assertIn("saved_model", written)
        self.assertEmpty([n for n in written if n.endswith(".tflite")])

    def test_tflite_size_other_than_the_crop_fixes_that_input_size(self):
        export_dir = os.path.join(self.create_tempdir().full_path, "out")
        _run_main(
            export,
            model_dir=helpers.trained_run(),
            export_dir=export_dir,
            formats=["tflite"],
            quantization=["float32"],
            dynamic_tflite=False,
            tflite_size=48,
            parity_images=1,
        )
        model = litert.TfliteModel(os.path.join(export_dir, "a2b_float32.tflite"))
        self.assertEqual(model.fixed_size, (48, 48))


class ImportTorchTest(CommandTest):
    def test_imports_one_file_and_says_how_to_export(self):
        fixture = helpers.FIXTURES
        model_dir = os.path.join(self.create_tempdir().full_path, "imported")
        printed = _run_main(
            import_torch,
            checkpoint=os.path.join(fixture, "pretrained", "resnet.pth"),
            direction="b2a",
            model_dir=model_dir,
            dataset="synthetic",
        )
        self.assertIn("resnet_6blocks, ngf 4", printed)
        self.assertIn(f"python -m tf_cyclegan.export --model_dir={model_dir}", printed)
        _, generators, _ = restore.load_generators(model_dir)
        self.assertEqual(list(generators), ["b2a"])


class TranslateTest(CommandTest):
    def test_translates_a_folder_and_counts_what_it_did(self):
        inputs, outputs = self.create_tempdir().full_path, self.create_tempdir().full_path
        _images(inputs, 2, size=(20, 28))
        printed = _run_main(
            translate, model=helpers.trained_run(), direction="b2a", input=inputs, output=outputs
        )
        self.assertIn("Translated 2 image(s)", printed)
        for name in ("0.png", "1.png"):
            self.assertEqual(Image.open(os.path.join(outputs, name)).size, (28, 20))


if __name__ == "__main__":
    # Run as a program (Bazel), absl parses the command line, where the commands' required
    # flags have no value; every test sets the ones it uses.
    for name in ("model_dir", "export_dir", "dataset", "source", "model", "input", "output"):
        FLAGS.set_default(name, "set-by-each-test")
    tf.test.main()
