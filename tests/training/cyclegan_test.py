import tempfile

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.training import cyclegan, losses

NETWORKS = ("generator_a2b", "generator_b2a", "discriminator_a", "discriminator_b")


def _batches(batch=2, size=32):
    images = tf.random.stateless_uniform([2, batch, size, size, 3], [4, 2], minval=-1, maxval=1)
    ds = tf.data.Dataset.from_tensors({"a": images[0], "b": images[1]}).repeat()
    return iter(tf.distribute.get_strategy().experimental_distribute_dataset(ds))


class OneStepTest(tf.test.TestCase):
    """One step of the default tiny CycleGAN, taken once and read by every test."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model = cyclegan.CycleGAN(helpers.tiny_config(tempfile.mkdtemp()), 10)
        cls.before = {
            n: [v.numpy() for v in getattr(cls.model, n).trainable_variables] for n in NETWORKS
        }
        cls.values = cls.model.train_step(_batches())

    def test_one_step_updates_all_four_networks(self):
        for name in NETWORKS:
            after = getattr(self.model, name).trainable_variables
            changed = [not np.array_equal(b, a.numpy()) for b, a in zip(self.before[name], after)]
            self.assertTrue(all(changed), f"{name}: unchanged variables {changed}")
        self.assertEqual(int(self.model.step), 1)
        self.assertEqual(int(self.model.generator_optimizer.iterations), 1)
        self.assertEqual(int(self.model.discriminator_optimizer.iterations), 1)

    def test_every_lsgan_loss_term_is_reported_and_finite(self):
        expected = set(losses.NAMES) - {
            "discriminator_a/gradient_penalty",
            "discriminator_b/gradient_penalty",
        }
        self.assertEqual(set(self.values), expected)
        for name, value in self.values.items():
            self.assertTrue(np.isfinite(value.numpy()), name)

    def test_totals_are_the_sum_of_their_terms(self):
        values = self.values
        g_terms = [values[k] for k in losses.GENERATOR_TERMS]
        d_terms = [v for k, v in values.items() if k in losses.DISCRIMINATOR_TERMS]
        self.assertAllClose(values[losses.GENERATORS_TOTAL], tf.add_n(g_terms), rtol=1e-5)
        self.assertAllClose(values[losses.DISCRIMINATORS_TOTAL], tf.add_n(d_terms), rtol=1e-5)

    def test_pool_receives_the_fakes(self):
        self.assertEqual(int(self.model.pool_a.count[0]), 2)
        self.assertEqual(int(self.model.pool_b.count[0]), 2)

    def test_translate_rejects_an_unknown_direction(self):
        with self.assertRaisesRegex(ValueError, "'a2a'"):
            self.model.translate(tf.zeros([1, 8, 8, 3]), "a2a")


class TrainStepTest(tf.test.TestCase, parameterized.TestCase):
    # Every non-default architecture option, in two models (options that exclude each other
    # apart): a failure names the model, and each option still has to train all four.
    @parameterized.parameters(
        {"model.norm": "batch", "model.use_dropout": True, "model.discriminator": "pixel"},
        {"model.norm": "none", "model.discriminator": "n_layers", "model.n_layers_d": 2},
    )
    def test_every_architecture_option_trains_all_four_networks(self, **overrides):
        config = helpers.tiny_config(self.get_temp_dir(), **overrides)
        model = cyclegan.CycleGAN(config, steps_per_epoch=10)
        before = {n: [v.numpy() for v in getattr(model, n).trainable_variables] for n in NETWORKS}
        values = model.train_step(_batches())
        for name, value in values.items():
            self.assertTrue(np.isfinite(value.numpy()), name)
        for name in NETWORKS:
            after = getattr(model, name).trainable_variables
            self.assertTrue(
                any(not np.array_equal(b, a.numpy()) for b, a in zip(before[name], after)), name
            )

    @parameterized.parameters("vanilla", "wgangp")  # lsgan: OneStepTest.
    def test_every_loss_term_is_reported_and_finite(self, gan_mode):
        config = helpers.tiny_config(self.get_temp_dir(), **{"loss.gan_mode": gan_mode})
        values = cyclegan.CycleGAN(config, steps_per_epoch=10).train_step(_batches())
        expected = set(losses.NAMES)
        if gan_mode != "wgangp":
            expected -= {"discriminator_a/gradient_penalty", "discriminator_b/gradient_penalty"}
        self.assertEqual(set(values), expected)
        for name, value in values.items():
            self.assertTrue(np.isfinite(value.numpy()), name)

    def test_identity_terms_vanish_with_weight_zero(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"loss.lambda_identity": 0.0})
        values = cyclegan.CycleGAN(config, steps_per_epoch=10).train_step(_batches())
        self.assertNotIn("generator_a2b/identity", values)
        self.assertNotIn("generator_b2a/identity", values)

    def test_learning_rate_follows_the_schedule(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"optim.lr": 1e-3})
        model = cyclegan.CycleGAN(config, steps_per_epoch=1)  # Decay over one step.
        self.assertAllClose(model.learning_rate, 1e-3)
        iterator = _batches()
        model.train_step(iterator)
        model.train_step(iterator)
        self.assertAllClose(model.learning_rate, 0.0)


if __name__ == "__main__":
    tf.test.main()
