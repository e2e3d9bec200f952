"""Export replaces only its own output and never ships a model it could not check."""

import json
import os
import socket
import subprocess
import sys
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors
from tf_cyclegan.exporting import export_lib, parity
from tf_cyclegan.networks import restore


class ExportSafetyTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = helpers.trained_run()

    def _quick_export(self, export_dir, **kwargs):
        return helpers.export(self.model_dir, export_dir, formats=("saved_model",), **kwargs)

    def test_overwrite_refuses_the_training_run_and_keeps_it_whole(self):
        before = sorted(os.listdir(self.model_dir))
        with self.assertRaisesRegex(errors.ConfigError, "training run|not an export"):
            self._quick_export(self.model_dir, overwrite=True)
        self.assertEqual(sorted(os.listdir(self.model_dir)), before)

    def test_overwrite_refuses_a_folder_that_is_not_an_export(self):
        folder = tempfile.mkdtemp()
        with open(os.path.join(folder, "thesis.tex"), "w") as f:
            f.write("mine")
        with self.assertRaisesRegex(errors.ConfigError, "not an export"):
            self._quick_export(folder, overwrite=True)
        self.assertEqual(os.listdir(folder), ["thesis.tex"])

    def test_overwrite_replaces_a_previous_export_but_not_a_file_put_into_it(self):
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        self._quick_export(export_dir)
        self._quick_export(export_dir, overwrite=True)
        self.assertTrue(os.path.exists(os.path.join(export_dir, "saved_model", "saved_model.pb")))
        self.assertEqual(os.listdir(os.path.dirname(export_dir)), ["exported"])
        with open(os.path.join(export_dir, "notes.txt"), "w") as f:
            f.write("mine")
        with self.assertRaisesRegex(errors.ConfigError, "notes.txt"):
            self._quick_export(export_dir, overwrite=True)

    def test_a_killed_exports_staging_is_removed_and_the_report_names_the_checkpoint(self):
        export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        # What `kill -9` during an export leaves: a staging folder of a dead process.
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        stale = os.path.join(
            os.path.dirname(export_dir),
            f".exported.staging-{socket.gethostname()}-{dead.stdout.strip()}-abc",
        )
        os.makedirs(stale)
        report = self._quick_export(export_dir)
        self.assertFalse(os.path.exists(stale))
        self.assertEqual(report["checkpoint"], tf.train.latest_checkpoint(self.model_dir))
        with open(os.path.join(export_dir, export_lib.REPORT_FILE)) as f:
            self.assertEqual(json.load(f)["checkpoint"], report["checkpoint"])

    def test_non_finite_weights_are_refused(self):
        nan_dir = os.path.join(tempfile.mkdtemp(), "nan_run")
        config, generators, _ = restore.load_generators(self.model_dir)
        generators["b2a"].layers[2].kernel.assign(
            tf.fill(generators["b2a"].layers[2].kernel.shape, float("nan"))
        )
        owner = tf.train.Checkpoint(
            generator_a2b=generators["a2b"], generator_b2a=generators["b2a"]
        )
        tf.train.Checkpoint(model=owner).save(os.path.join(nan_dir, "ckpt"))
        config_lib.save(config, nan_dir)
        with self.assertRaisesRegex(errors.RunDirError, "non-finite weights in generator_b2a"):
            helpers.export(nan_dir, os.path.join(nan_dir, "out"), formats=("saved_model",))
        self.assertFalse(os.path.exists(os.path.join(nan_dir, "out")))

    def test_an_export_below_its_parity_floor_fails_and_writes_nothing(self):
        export_dir = os.path.join(tempfile.mkdtemp(), "out")
        # LiteRT's kernels differ from TensorFlow's in rounding (about 125 dB here, finite on
        # any CPU); no such pair reaches 400 dB, so this floor must trip.
        with mock.patch.dict(parity.PSNR_FLOORS_DB, {"float32": 400.0}):
            with self.assertRaisesRegex(parity.ParityError, "below its 400.0 dB floor"):
                helpers.export(
                    self.model_dir,
                    export_dir,
                    formats=("tflite",),
                    quantizations=("float32",),
                    dynamic_tflite=False,
                )
        self.assertFalse(os.path.exists(export_dir))

    def test_nan_outputs_fail_parity_whatever_the_floor(self):
        for variant in ("float32", "int8"):
            with self.assertRaisesRegex(parity.ParityError, "not finite"):
                parity.check("x", variant, parity.compare(np.zeros(4), np.full(4, np.nan)))


if __name__ == "__main__":
    tf.test.main()
