"""CUT and FastCUT through the training loop, the strategies and the deployment path."""

import os

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import errors
from tf_cyclegan.serving import translators
from tf_cyclegan.training import cut, distribute, train_lib

distribute.configure_cpu_devices(2)  # A no-op under pytest, where conftest.py did it.


def _config(model_dir, family="cut", **overrides):
    """The tiny networks; PatchNCE on the layers a one-block generator has."""
    options = {
        "model.family": family,
        "model.antialias": True,
        "model.init_type": "xavier",
        "loss.pool_size": 0,
        "loss.nce_idt": family == "cut",
        "loss.flip_equivariance": family == "fastcut",
        "loss.nce_layers": "0,4,8,12",
        "loss.num_patches": 16,
        "loss.projection_width": 8,
    }
    return helpers.tiny_config(model_dir, **{**options, **overrides})


def _batches(size=32):
    images = tf.random.stateless_uniform([2, 2, size, size, 3], [3, 4], minval=-1, maxval=1)
    dataset = tf.data.Dataset.from_tensors({"a": images[0], "b": images[1]}).repeat()
    return iter(dataset)


class CutStepTest(parameterized.TestCase, tf.test.TestCase):
    @parameterized.parameters("cut", "fastcut")
    def test_one_step_updates_generator_head_and_discriminator_and_reports_each_term(self, family):
        model = cut.CUT(_config(self.get_temp_dir(), family), steps_per_epoch=10)
        networks = ("generator_a2b", "projection_head", "discriminator_b")
        before = {n: [v.numpy() for v in getattr(model, n).trainable_variables] for n in networks}
        losses = model.train_step(_batches())
        for name in networks:
            after = getattr(model, name).trainable_variables
            self.assertTrue(
                any(not np.array_equal(b, a.numpy()) for b, a in zip(before[name], after)), name
            )
        expected = {*cut.GENERATOR_TERMS[: 3 if family == "cut" else 2], *cut.DISCRIMINATOR_TERMS}
        self.assertContainsSubset(expected, set(losses))
        for name, value in losses.items():
            self.assertTrue(np.isfinite(value.numpy()), name)

    def test_a_cut_run_holds_one_generator_and_refuses_the_other_direction(self):
        model = cut.CUT(_config(self.get_temp_dir()), steps_per_epoch=10)
        self.assertEqual(tuple(model.directions), ("a2b",))
        self.assertFalse(hasattr(model, "generator_b2a"))
        with self.assertRaisesRegex(ValueError, "a2b only"):
            model.translate(tf.zeros([1, 32, 32, 3]), "b2a")

    def test_nce_layers_beyond_the_generator_are_named(self):
        config = _config(self.get_temp_dir(), **{"loss.nce_layers": "0,40"})
        with self.assertRaisesRegex(errors.ConfigError, "--nce_layers=0,40"):
            cut.CUT(config, steps_per_epoch=10)


class CutRunTest(tf.test.TestCase):
    def test_resumed_run_matches_one_straight_run(self):
        overrides = {"train.deterministic": True, "train.checkpoint_every": 1}
        straight_dir = os.path.join(self.get_temp_dir(), "straight")
        straight = _config(straight_dir, "fastcut", **overrides, **{"train.train_steps": 4})
        train_lib.train(straight)
        resumed_dir = helpers.stopped_copy(straight_dir, 2)
        config = _config(resumed_dir, "fastcut", **overrides, **{"train.train_steps": 4})
        helpers.resumed(self, 2, train_lib.train, config)
        want, got = helpers.checkpoint_values(straight_dir), helpers.checkpoint_values(resumed_dir)
        self.assertEqual(set(want), set(got))
        self.assertTrue(any("projection_head" in name for name in want))
        self.assertFalse(any("generator_b2a" in name for name in want))
        for name in want:
            self.assertAllEqual(got[name], want[name], msg=name)

    def test_two_replicas_under_xla_in_float16_train_and_export_one_direction(self):
        model_dir = os.path.join(self.get_temp_dir(), "mirrored")
        overrides = {
            "train.mixed_precision": "float16",
            "train.jit_compile": True,
            "train.train_steps": 2,
            "data.batch_size": 1,
        }
        strategy = distribute.make_strategy("mirrored", num_cpu_devices=2)
        result = train_lib.train(_config(model_dir, **overrides), strategy)
        self.assertEqual(result["step"], 2)
        for name, value in result["losses"].items():
            self.assertTrue(np.isfinite(value), name)
        export_dir = os.path.join(self.get_temp_dir(), "export")
        helpers.export(model_dir, export_dir, formats=("saved_model",), quantizations=("float32",))
        image = np.zeros([1, 32, 32, 3], np.uint8)
        self.assertEqual(translators.load(export_dir, "a2b")(image).shape, (1, 32, 32, 3))
        with self.assertRaisesRegex(errors.ConfigError, "holds only the a2b generator"):
            translators.load(export_dir, "b2a")


if __name__ == "__main__":
    tf.test.main()
