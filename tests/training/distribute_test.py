"""Distribution is proven by comparison: 2 logical CPU replicas against 1 device, same batch."""

import dataclasses
import functools
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.training import cyclegan, distribute, train_lib

distribute.configure_cpu_devices(2)  # A no-op under pytest, where conftest.py did it.

NETWORKS = ("generator_a2b", "generator_b2a", "discriminator_a", "discriminator_b")


def _global_batch(size=32):
    images = tf.random.stateless_uniform([2, 2, size, size, 3], [7, 1], minval=-1, maxval=1)
    return {"a": images[0], "b": images[1]}


def _one_sgd_step(strategy, tmp, **overrides):
    """One step with SGD (Adam's first step is ~lr*sign(g): too sensitive to compare)."""
    replicas = strategy.num_replicas_in_sync
    config = helpers.tiny_config(tmp, **{"data.batch_size": 2 // replicas, **overrides})
    model = cyclegan.CycleGAN(config, steps_per_epoch=10, strategy=strategy)
    with strategy.scope():
        model.generator_optimizer = keras.optimizers.SGD(0.5)
        model.discriminator_optimizer = keras.optimizers.SGD(0.5)
        model.generator_optimizer.build(model.generator_variables)
        model.discriminator_optimizer.build(model.discriminator_variables)
    ds = tf.data.Dataset.from_tensor_slices(_global_batch()).batch(2)
    losses = model.train_step(iter(strategy.experimental_distribute_dataset(ds)))
    weights = {n: [v.numpy() for v in getattr(model, n).variables] for n in NETWORKS}
    return {k: float(v) for k, v in losses.items()}, weights, model


@functools.cache
def _one_device_step(*overrides):
    """``_one_sgd_step`` on one device, computed once per process for each set of
    ``overrides`` ((key, value) pairs): the reference several comparisons share."""
    losses, weights, _ = _one_sgd_step(
        tf.distribute.get_strategy(), tempfile.mkdtemp(), **dict(overrides)
    )
    return losses, weights


_JIT = (("train.jit_compile", True),)


class StepEquivalenceTest(tf.test.TestCase):
    """The same step computed three ways (one device, two replicas, XLA) agrees."""

    def test_two_replicas_match_one_device_on_the_same_global_batch(self):
        mirrored = distribute.make_strategy("mirrored", num_cpu_devices=2)
        self.assertEqual(mirrored.num_replicas_in_sync, 2)
        single_losses, single_weights = _one_device_step()
        losses, weights, model = _one_sgd_step(mirrored, self.get_temp_dir())
        self.assertEqual(set(losses), set(single_losses))
        for name, value in losses.items():
            self.assertAllClose(value, single_losses[name], rtol=1e-5, atol=1e-6, msg=name)
        for name in NETWORKS:
            for got, want in zip(weights[name], single_weights[name]):
                self.assertAllClose(got, want, rtol=1e-5, atol=1e-5, msg=name)
        # One pool per replica, each holding its own replica's image.
        pool = model.pool_a.images.numpy()
        self.assertEqual(pool.shape[0], 2)
        self.assertEqual(list(model.pool_a.count.numpy()), [1, 1])
        self.assertNotAllClose(pool[0, 0], pool[1, 0])

    def test_two_replicas_under_xla_match_one_device_under_xla(self):
        # XLA compiles each replica's gradients on its own device; once it compiled one
        # function for both, and the second replica's variables sat on the wrong device.
        mirrored = distribute.make_strategy("mirrored", num_cpu_devices=2)
        single_losses, single_weights = _one_device_step(*_JIT)
        losses, weights, _ = _one_sgd_step(mirrored, self.get_temp_dir(), **dict(_JIT))
        for name, value in losses.items():
            self.assertAllClose(value, single_losses[name], rtol=1e-5, atol=1e-6, msg=name)
        for name in NETWORKS:
            for got, want in zip(weights[name], single_weights[name]):
                self.assertAllClose(got, want, rtol=1e-5, atol=1e-5, msg=name)

    def test_jit_compiled_step_matches_the_plain_step(self):
        # What is compared is well-conditioned on any CPU. Against a float64 computation of
        # the same step, the XLA step's gradients agree to ~2e-6 of their scale; the plain
        # step's agree as well with TF_ENABLE_ONEDNN_OPTS=0, but with oneDNN on an AVX-512
        # CPU the cycle terms' gradients (which pass through the other generator's input
        # gradient) moved by up to 4e-3 (KNOWN_TRAPS.md). So: every loss of the full step
        # (forward values), and all four networks after one SGD step of the adversarial
        # objective, whose gradients both sides computed to ~2e-6.
        for objective in ((), (("loss.lambda_a", 0.0), ("loss.lambda_b", 0.0))):
            plain_losses, plain_weights = _one_device_step(*objective)
            jit_losses, jit_weights = _one_device_step(*objective, *_JIT)
            for name, value in jit_losses.items():
                self.assertAllClose(value, plain_losses[name], rtol=1e-5, atol=1e-6, msg=name)
        for name in NETWORKS:
            for got, want in zip(jit_weights[name], plain_weights[name]):
                self.assertAllClose(got, want, rtol=1e-4, atol=1e-4, msg=name)

    def test_auto_picks_mirrored_when_several_devices_are_visible(self):
        self.assertIsInstance(distribute.make_strategy("auto", 2), tf.distribute.MirroredStrategy)

    def test_unknown_strategy_is_named(self):
        with self.assertRaisesRegex(ValueError, "'horovod'.*mirrored"):
            distribute.make_strategy("horovod")


class ResumeUnderDistributionTest(tf.test.TestCase):
    """Runs resume exactly under a strategy, and across a change of --jit_compile."""

    def test_bfloat16_xla_run_resumes_without_xla(self):
        model_dir = os.path.join(self.get_temp_dir(), "bf16")
        config = helpers.tiny_config(
            model_dir, **{"train.mixed_precision": "bfloat16", "train.jit_compile": True}
        )
        train_lib.train(helpers.with_train_steps(config, 2))
        no_xla = dataclasses.replace(config.train, jit_compile=False)
        plain = dataclasses.replace(config, train=no_xla)
        result = train_lib.train(helpers.with_train_steps(plain, 4))
        self.assertEqual(result["step"], 4)
        for name, value in result["losses"].items():
            self.assertTrue(np.isfinite(value), name)

    def test_resume_under_mirrored_gives_the_same_state_as_one_run(self):
        # Each train() call gets a new strategy object, as a restarted process would.
        overrides = {"train.deterministic": True, "data.batch_size": 1, "data.max_dataset_size": 8}
        straight_dir = os.path.join(self.get_temp_dir(), "straight")
        straight = helpers.tiny_config(straight_dir, **overrides, **{"train.train_steps": 6})
        train_lib.train(straight, distribute.make_strategy("mirrored", num_cpu_devices=2))
        # Stopped at step 2 (of 4 per epoch): the resumed part crosses into epoch 2.
        resumed_dir = helpers.stopped_copy(straight_dir, 2)
        config = helpers.tiny_config(resumed_dir, **overrides, **{"train.train_steps": 6})
        strategy = distribute.make_strategy("mirrored", num_cpu_devices=2)
        result = helpers.resumed(self, 2, train_lib.train, config, strategy)
        self.assertEqual(result["step"], 6)
        want, got = helpers.checkpoint_values(straight_dir), helpers.checkpoint_values(resumed_dir)
        self.assertEqual(set(want), set(got))
        self.assertTrue(any("pool_a/images" in n for n in want))
        for name in want:
            self.assertAllClose(got[name], want[name], atol=1e-6, rtol=1e-6, msg=name)


class StrategiesInOneProcessTest(tf.test.TestCase):
    def test_mirrored_runs_of_other_models_follow_each_other_in_one_process(self):
        # Their first collectives differ (CUT's gradient all-reduce, CycleGAN's pool
        # all-gather); on shared collective keys the second run aborted.
        tmp = self.get_temp_dir()
        cut_config = helpers.tiny_config(
            os.path.join(tmp, "cut"),
            **{"model.family": "cut", "loss.nce_layers": "0,4", "loss.num_patches": 8},
        )
        cyclegan_config = helpers.tiny_config(os.path.join(tmp, "cyclegan"))
        for config in (cut_config, cyclegan_config):
            config = helpers.with_train_steps(config, 1)
            strategy = distribute.make_strategy("mirrored", num_cpu_devices=2)
            self.assertEqual(train_lib.train(config, strategy)["step"], 1)


class PrecisionAndXlaTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters("float16", "bfloat16")
    def test_mixed_precision_step_is_finite_with_float32_weights(self, dtype):
        losses, _, model = _one_sgd_step(
            tf.distribute.get_strategy(), self.get_temp_dir(), **{"train.mixed_precision": dtype}
        )
        for name, value in losses.items():
            self.assertTrue(np.isfinite(value), name)
        self.assertEqual(model.generator_a2b.layers[2].compute_dtype, dtype)
        self.assertTrue(all(v.dtype == tf.float32 for v in model.generator_a2b.variables))
        self.assertEqual(model.generator_a2b(tf.zeros([1, 8, 8, 3])).dtype, tf.float32)
        self.assertEqual(keras.mixed_precision.global_policy().name, "float32")

    def test_float16_uses_dynamic_loss_scaling(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"train.mixed_precision": "float16"})
        model = cyclegan.CycleGAN(config, steps_per_epoch=10)
        self.assertIsInstance(model.generator_optimizer, keras.optimizers.LossScaleOptimizer)


class Float16OverflowTest(tf.test.TestCase, parameterized.TestCase):
    """float16 loss scaling skips a step on every replica or on none."""

    @parameterized.named_parameters(("one_replica_overflows", 1.0), ("none_overflows", 0.0))
    def test_replicas_skip_or_apply_together(self, replica_1_overflows):
        # Reduction through one device, not collective ops: collective instance keys are
        # process-wide, and this test's would clash with the other tests' (KNOWN_TRAPS.md).
        devices = [d.name for d in tf.config.list_logical_devices("CPU")[:2]]
        strategy = tf.distribute.MirroredStrategy(
            devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
        with strategy.scope():
            weights = tf.Variable([1.0, 2.0])
            optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1))
            optimizer.build([weights])
        scale = float(optimizer.dynamic_scale.numpy())

        @tf.function
        def step():
            def replica_fn():
                replica = tf.distribute.get_replica_context().replica_id_in_sync_group
                overflow = tf.logical_and(replica == 1, replica_1_overflows > 0)
                # Scaled per-replica gradients of a mean loss: they unscale and sum to 1.
                gradient = tf.where(overflow, float("inf"), scale / 2) * tf.ones([2])
                distribute.apply_gradients(optimizer, [gradient], [weights])

            strategy.run(replica_fn)

        step()
        if replica_1_overflows:  # Skipped everywhere, never a NaN weight; the scale halves.
            self.assertAllEqual(weights.numpy(), [1.0, 2.0])
            self.assertEqual(float(optimizer.dynamic_scale.numpy()), scale / 2)
        else:  # One SGD step of 0.1 along the all-reduced gradient 1.
            self.assertAllClose(weights.numpy(), [0.9, 1.9])
            self.assertEqual(float(optimizer.dynamic_scale.numpy()), scale)


if __name__ == "__main__":
    tf.test.main()
