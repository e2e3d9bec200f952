"""Training keeps the generators of its best evaluation, and --checkpoint=best reads them."""

import json
import os
import tempfile
from unittest import mock

import numpy as np
import tensorflow as tf

import helpers
from tf_cyclegan.common import conventions, errors, run_dir
from tf_cyclegan.evaluation import evaluate_lib
from tf_cyclegan.networks import restore
from tf_cyclegan.serving import translators
from tf_cyclegan.training import train_lib

# One fixed input (whole pixel values, so that translate's uint8 form is the same input);
# what each evaluation's generators make of it identifies their weights.
_PROBE_PIXELS = np.random.default_rng(0).integers(0, 256, (1, 32, 32, 3), dtype=np.uint8)
_PROBE = conventions.to_float(tf.constant(_PROBE_PIXELS))


class _ScriptedEvaluation:
    """Stands in for ``evaluate_lib.evaluate``: the FID of the n-th call is ``fids[n]``, and
    each call records the a2b generator's output on ``_PROBE`` at that evaluation."""

    def __init__(self, fids, direction="a2b"):
        self.fids, self.direction, self.outputs = list(fids), direction, []

    def __call__(self, translate, *args, **kwargs):
        del args, kwargs
        self.outputs.append(translate(_PROBE, "a2b").numpy())
        fid = self.fids[len(self.outputs) - 1]
        return {f"{self.direction}/fid": fid, "a2b/cycle_mae": 0.5}


def _train(model_dir, fids, steps=4, **overrides):
    """Trains the tiny config with an evaluation every step scoring ``fids`` in turn."""
    config = helpers.tiny_config(
        model_dir,
        **{
            "train.train_steps": steps,
            "train.eval_every": 1,
            "train.checkpoint_every": 1,
            "train.max_to_keep": 1,
            **overrides,
        },
    )
    scripted = _ScriptedEvaluation(fids, config.train.best_direction)
    with mock.patch.object(evaluate_lib, "evaluate", side_effect=scripted):
        train_lib.train(config)
    return scripted


class BestCheckpointTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = os.path.join(tempfile.mkdtemp(prefix="best_"), "run")
        # Evaluations at steps 1, 2, 3 and the final one at 4: the best is step 2, whose
        # regular checkpoint --max_to_keep=1 rotates away.
        cls.scripted = _train(cls.model_dir, [5.0, 3.0, 4.0, 6.0])

    def test_records_the_step_and_value_of_the_lowest_fid(self):
        with open(os.path.join(self.model_dir, run_dir.BEST_DIR, run_dir.BEST_FILE)) as f:
            record = json.load(f)
        self.assertEqual(record["step"], 2)
        self.assertEqual(record["metric"], "a2b/fid")
        self.assertEqual(record["value"], 3.0)

    def test_best_survives_the_rotation_and_only_it_is_kept(self):
        self.assertEqual(
            [os.path.basename(p) for p in run_dir.checkpoints(self.model_dir)], ["ckpt-4"]
        )
        best = os.path.join(self.model_dir, run_dir.BEST_DIR)
        self.assertEqual([os.path.basename(p) for p in run_dir.checkpoints(best)], ["ckpt-2"])

    def test_checkpoint_best_restores_the_generators_as_they_were_then(self):
        _, generators, path = restore.load_generators(self.model_dir, run_dir.BEST)
        self.assertEndsWith(path, os.path.join(run_dir.BEST_DIR, "ckpt-2"))
        at_best, at_end = self.scripted.outputs[1], self.scripted.outputs[3]
        self.assertGreater(np.abs(at_best - at_end).max(), 1e-3)  # Training moved them.
        # The same float32 network on the same input: equal to float32 rounding.
        self.assertAllClose(generators["a2b"](_PROBE, training=False), at_best, atol=1e-5)

    def test_translate_reads_the_best_checkpoint_of_a_run(self):
        translator = translators.load(self.model_dir, "a2b", checkpoint=run_dir.BEST)
        expected = conventions.to_uint8(self.scripted.outputs[1]).astype(int)
        # Off by one grey level at most: rounding of values within float32 error of a .5.
        self.assertLessEqual(np.abs(translator(_PROBE_PIXELS).astype(int) - expected).max(), 1)


class BestResumeTest(tf.test.TestCase):
    def test_a_resumed_run_keeps_the_best_of_its_earlier_part(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        _train(model_dir, [4.0, 2.0], steps=2)
        _train(model_dir, [3.0, 2.5], steps=4)  # Both worse than step 2's.
        self.assertEqual(run_dir.read_best(model_dir)["step"], 2)
        _train(model_dir, [1.0], steps=5)  # Better: replaces it.
        self.assertEqual(run_dir.read_best(model_dir)["step"], 5)
        best = os.path.join(model_dir, run_dir.BEST_DIR)
        self.assertEqual([os.path.basename(p) for p in run_dir.checkpoints(best)], ["ckpt-5"])

    def test_the_chosen_direction_decides(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        _train(model_dir, [4.0, 2.0], steps=2, **{"train.best_direction": "b2a"})
        self.assertEqual(run_dir.read_best(model_dir)["metric"], "b2a/fid")


class NoBestTest(tf.test.TestCase):
    def test_a_run_without_fid_keeps_none_and_best_is_one_clear_error(self):
        model_dir = helpers.trained_run()
        self.assertFalse(os.path.exists(os.path.join(model_dir, run_dir.BEST_DIR)))
        with self.assertRaisesRegex(errors.MissingError, "--eval_every and --inception_weights"):
            restore.load_generators(model_dir, run_dir.BEST)

    def test_best_applies_to_run_directories_only(self):
        tflite = os.path.join(self.get_temp_dir(), "a2b.tflite")
        open(tflite, "wb").close()
        with self.assertRaisesRegex(errors.ConfigError, "--checkpoint applies to a training run"):
            translators.load(tflite, "a2b", checkpoint=run_dir.BEST)


if __name__ == "__main__":
    tf.test.main()
