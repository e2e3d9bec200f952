"""export --inception_weights: each form's FID in the report, and the forms that lose it."""

import json
import os
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

import helpers
from tf_cyclegan.exporting import quality, tflite_export


class ExportFidTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.export_dir = os.path.join(tempfile.mkdtemp(), "exported")
        run = tflite_export.run

        def broken_int8(path, images, *args):  # A variant that lost the translation.
            if path.endswith("_int8.tflite"):  # A pixel checkerboard: no photo looks so.
                y, x = np.indices(images.shape[1:3])
                board = np.where((x + y) % 2, 1.0, -1.0)[np.newaxis, ..., np.newaxis]
                return np.broadcast_to(board, images.shape).astype(np.float32)
            return run(path, images, *args)

        # The narrowed standard network's FIDs are small (the checkerboard adds 4 to 40 of
        # them here): a margin to its scale; float forms differ from the SavedModel by ~1e-6.
        with (
            mock.patch.object(quality.tflite_export, "run", side_effect=broken_int8),
            mock.patch.object(quality, "FID_MARGIN", 1.0),
        ):
            helpers.export(
                helpers.trained_run(),
                cls.export_dir,
                quantizations=("float32", "int8"),
                inception_weights=helpers.NARROW_FID_PTH,
                dynamic_tflite=False,
            )
        with open(os.path.join(cls.export_dir, "export_report.json")) as f:
            cls.report = json.load(f)

    def test_every_form_has_the_fid_of_both_directions(self):
        for name in ("saved_model", "a2b_float32", "a2b_int8", "b2a_float32"):
            self.assertTrue(np.isfinite(list(self.report["artifacts"][name]["fid"].values())).all())
        self.assertEqual(set(self.report["artifacts"]["saved_model"]["fid"]), {"a2b", "b2a"})

    def test_the_float_forms_score_as_the_saved_model_and_only_int8_is_flagged(self):
        artifacts = self.report["artifacts"]
        saved = artifacts["saved_model"]["fid"]["a2b"]
        self.assertAllClose(
            artifacts["a2b_float32"]["fid"]["a2b"], saved, atol=0.01
        )  # Reported to 2 decimals.
        flagged = sorted(n for n, a in artifacts.items() if "fid_flag" in a)
        self.assertEqual(flagged, ["a2b_int8", "b2a_int8"])
        self.assertIn("worse than the SavedModel", artifacts["a2b_int8"]["fid_flag"])


if __name__ == "__main__":
    tf.test.main()
