import os
import tempfile
import time
from unittest import mock

import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import helpers
from tf_cyclegan.common import reachability
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib, inception
from tf_cyclegan.training import train_lib


class EvaluationTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = os.path.join(tempfile.mkdtemp(), "run")
        config = helpers.tiny_config(cls.model_dir, **{"train.eval_every": 2})
        cls.result = train_lib.train(config)
        cls.builder = sources.get_builder("synthetic", helpers.synthetic_data_dir())

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

    def test_eval_every_writes_metrics_to_tensorboard_during_training(self):
        events = event_accumulator.EventAccumulator(
            os.path.join(self.model_dir, "train"), size_guidance={"tensors": 0}
        ).Reload()
        steps = [e.step for e in events.Tensors("eval/a2b/cycle_mae")]
        self.assertEqual(steps, [2, 4])


class InceptionTest(tf.test.TestCase):
    def test_offline_without_weights_fails_fast_and_says_what_to_do(self):
        start = time.monotonic()
        with (
            mock.patch.dict(os.environ, {"KERAS_HOME": self.get_temp_dir()}),
            mock.patch.object(reachability, "host_reachable", return_value=False),
        ):
            with self.assertRaisesRegex(inception.InceptionUnavailableError, "--inception_weights"):
                inception.load()
        self.assertLess(time.monotonic() - start, 10)

    def test_missing_weights_file_is_named(self):
        with self.assertRaisesRegex(FileNotFoundError, "nope.h5"):
            inception.load("/nonexistent/nope.h5")


if __name__ == "__main__":
    tf.test.main()
