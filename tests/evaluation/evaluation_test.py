import functools
import os
import tempfile
import time
from unittest import mock

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import helpers
from tf_cyclegan.common import reachability, run_dir
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib, inception
from tf_cyclegan.training import train_lib


def _NO_WEIGHTS_HOMES(empty):  # noqa: N802
    """Where Keras and PyTorch keep weights, pointed at an empty folder."""
    return {"KERAS_HOME": empty, "TORCH_HOME": empty}


class EvaluationTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = os.path.join(tempfile.mkdtemp(), "run")
        overrides = {
            "train.eval_every": 2,
            "train.inception_weights": helpers.NARROW_FID_PTH,
            "train.eval_images": 3,
        }
        cls.result = train_lib.train(helpers.tiny_config(cls.model_dir, **overrides))
        cls.builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())
        cls.cache = os.path.join(cls.model_dir, run_dir.FID_REFERENCE)

    def test_reports_fid_kid_cycle_and_ground_truth_for_both_directions(self):
        results = evaluate_lib.evaluate(
            self.result["model"].translate, self.builder, 32, helpers.stand_in_inception()
        )
        for direction in ("a2b", "b2a"):
            for metric in ("fid", "kid", "kid_std", "cycle_mae", "mae", "psnr", "untranslated_mae"):
                value = results[f"{direction}/{metric}"]
                self.assertTrue(np.isfinite(value), f"{direction}/{metric}")
            self.assertGreater(results[f"{direction}/fid"], 0.0)
            self.assertBetween(results[f"{direction}/cycle_mae"], 0.0, 2.0)

    def test_eval_every_draws_fid_and_kid_curves_in_tensorboard(self):
        events = event_accumulator.EventAccumulator(
            os.path.join(self.model_dir, "train"), size_guidance={"tensors": 0}
        ).Reload()
        for name in ("eval/a2b/cycle_mae", "eval/a2b/fid", "eval/b2a/kid"):
            self.assertEqual([e.step for e in events.Tensors(name)], [2, 4], name)

    def test_real_features_are_computed_once_per_split_and_read_back(self):
        cached = sorted(os.listdir(self.cache))
        self.assertLen(cached, 2)  # testA and testB, reused by the evaluations at 2 and 4.
        self.assertTrue(all(f"_3_{inception.STANDARD}_" in name for name in cached), cached)
        run = functools.partial(
            evaluate_lib.evaluate, self.result["model"].translate, self.builder, 32,
            helpers.stand_in_inception(), max_images=3, reference_cache=self.cache,
        )  # fmt: skip
        before = run()
        for name in cached:  # Shifted cached features must move the FID: they are read.
            path = os.path.join(self.cache, name)
            np.save(path, np.load(path) + 1.0)
        self.assertGreater(run()["a2b/fid"], before["a2b/fid"] + 1.0)


class InceptionTest(tf.test.TestCase):
    def test_offline_without_weights_fails_fast_and_says_what_to_do(self):
        start = time.monotonic()
        with (
            mock.patch.dict(
                os.environ, {"KERAS_HOME": self.get_temp_dir(), "TORCH_HOME": self.get_temp_dir()}
            ),
            mock.patch.object(reachability, "host_reachable", return_value=False),
        ):
            with self.assertRaisesRegex(inception.InceptionUnavailableError, "--inception_weights"):
                inception.load()
        self.assertLess(time.monotonic() - start, 10)

    def test_missing_weights_file_is_named(self):
        with self.assertRaisesRegex(FileNotFoundError, "nope.h5"):
            inception.load("/nonexistent/nope.h5")


class BatchedTest(tf.test.TestCase):
    def test_every_image_is_translated_once_and_one_shape_is_traced(self):
        images = tf.random.stateless_uniform([11, 4, 4, 3], [1, 2], minval=-1, maxval=1)
        double = tf.function(lambda x: 2 * x)
        self.assertAllEqual(evaluate_lib.batched(double, images, batch_size=4), 2 * images)
        self.assertEqual(double.experimental_get_tracing_count(), 1)


if __name__ == "__main__":
    tf.test.main()
