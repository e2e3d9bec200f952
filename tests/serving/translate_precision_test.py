"""translate --precision: a run directory's generators compute in bfloat16 on request."""

import os

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.serving import translate_lib, translators


def _psnr(x, y):
    mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0**2 / mse) if mse else np.inf


class TranslatePrecisionTest(tf.test.TestCase):
    def test_bfloat16_translation_stays_within_40_db_of_float32(self):
        # bfloat16 keeps 8 significant bits (relative error 2^-9 per rounding); through the
        # generator that leaves the uint8 output a level or two off here and there, far above
        # 40 dB, while a wrong weight or layout would fall far below it.
        image = np.random.default_rng(0).integers(0, 256, (1, 32, 48, 3), np.uint8)
        outputs = {
            p: translators.load(helpers.trained_run(), "a2b", p)(image)
            for p in ("float32", "bfloat16")
        }
        self.assertNotAllEqual(outputs["bfloat16"], outputs["float32"])  # bfloat16 did compute.
        self.assertGreaterEqual(_psnr(outputs["bfloat16"], outputs["float32"]), 40)

    def test_an_exported_model_refuses_another_precision_in_one_line(self):
        image = os.path.join(self.get_temp_dir(), "in.png")
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
        tflite = os.path.join(self.get_temp_dir(), "a2b.tflite")
        with open(tflite, "wb") as f:
            f.write(b"not read")
        with self.assertRaisesRegex(errors.ConfigError, "--precision=bfloat16 applies to a"):
            translate_lib.translate_paths(
                tflite, "a2b", image, os.path.join(self.get_temp_dir(), "out"), 1, False, "bfloat16"
            )


class ExportDirectoryPrecisionTest(tf.test.TestCase):
    def test_an_export_directory_is_not_taken_for_a_run_because_it_holds_config_json(self):
        export_dir = self.get_temp_dir()
        for name in ("export_report.json", "config.json"):  # What an export writes.
            with open(os.path.join(export_dir, name), "w") as f:
                f.write("{}")
        with self.assertRaisesRegex(errors.ConfigError, "--precision=bfloat16 applies to a"):
            translators.load(export_dir, "a2b", "bfloat16")


if __name__ == "__main__":
    tf.test.main()
