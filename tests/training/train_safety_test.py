"""Training never loses a good checkpoint, and a run directory stays one run's."""

import json
import os

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import config_checks, errors, run_dir, run_lock
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib
from tf_cyclegan.exporting import export_lib
from tf_cyclegan.networks import restore
from tf_cyclegan.serving import translators
from tf_cyclegan.training import cyclegan, train_lib


class DivergenceTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters({"optim.lr": 1e15}, {"model.init_gain": 1e30})
    def test_diverged_run_stops_and_keeps_the_last_finite_checkpoint(self, **overrides):
        model_dir = self.get_temp_dir()
        config = helpers.tiny_config(
            model_dir, **{"train.train_steps": 12, "train.checkpoint_every": 1, **overrides}
        )
        with self.assertRaisesRegex(errors.DivergedError, "diverged at step") as raised:
            train_lib.train(config)
        for prefix in run_dir.checkpoints(model_dir):
            for name, _ in tf.train.list_variables(prefix):
                value = tf.train.load_variable(prefix, name)
                if np.issubdtype(np.asarray(value).dtype, np.floating):
                    self.assertTrue(np.isfinite(value).all(), f"{prefix}: {name}")
        kept = run_dir.checkpoints(model_dir)
        if kept:
            self.assertIn(kept[0], str(raised.exception))

    @parameterized.parameters(
        ("optim.lr", 0.0, "--lr"),
        ("optim.lr", -1.0, "--lr"),
        ("optim.beta1", 1.0, "--beta1"),
        ("optim.beta2", -0.1, "--beta2"),
        ("loss.lambda_a", 1e39, "--lambda_a"),
        ("loss.lambda_identity", -1.0, "--lambda_identity"),
        ("model.init_gain", 0.0, "--init_gain"),
    )
    def test_nonsense_hyperparameters_are_refused_up_front(self, field, value, flag):
        config = helpers.tiny_config(self.get_temp_dir(), **{field: value})
        with self.assertRaisesRegex(errors.ConfigError, flag):
            config_checks.validate(config)

    def test_zero_epochs_are_refused(self):
        config = helpers.tiny_config(
            self.get_temp_dir(), **{"optim.epochs": 0, "optim.epochs_decay": 0}
        )
        with self.assertRaisesRegex(errors.ConfigError, "--epochs=0 --epochs_decay=0"):
            config_checks.validate(config)


class RunIdentityTest(tf.test.TestCase):
    def test_resume_with_another_seed_is_refused_and_config_kept(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        with open(os.path.join(model_dir, run_dir.CONFIG_FILE)) as f:
            before = f.read()
        changed = helpers.tiny_config(model_dir, **{"train.train_steps": 3, "train.seed": 5})
        with self.assertRaisesRegex(errors.RunDirError, "train.seed 0 -> 5"):
            train_lib.train(changed)
        with open(os.path.join(model_dir, run_dir.CONFIG_FILE)) as f:
            self.assertEqual(f.read(), before)
        self.assertEqual(json.loads(before)["train"]["num_replicas"], 1)

    def test_free_options_may_change_on_resume(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        result = train_lib.train(
            helpers.tiny_config(
                model_dir,
                **{
                    "train.train_steps": 3,
                    "data.num_samples": 1,
                    "train.log_every": 1,
                    "train.jit_compile": False,
                    "data.cache": True,
                },
            )
        )
        self.assertEqual(result["step"], 3)

    def test_failed_first_run_leaves_no_config(self):
        model_dir = os.path.join(self.get_temp_dir(), "typo")
        config = helpers.tiny_config(model_dir, **{"data.dataset": "cycle_gan/hors2zebra"})
        with self.assertRaisesRegex(errors.ConfigError, "cycle_gan/horse2zebra"):
            train_lib.train(config)
        self.assertFalse(os.path.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)))

    def test_damaged_config_is_named(self):
        model_dir = self.get_temp_dir()
        with open(os.path.join(model_dir, run_dir.CONFIG_FILE), "w") as f:
            f.write('{"model": {"ngf": 4')
        with self.assertRaisesRegex(errors.RunDirError, "config.json is damaged"):
            config_lib.load(model_dir)

    def test_resume_skips_a_truncated_newest_checkpoint(self):
        model_dir = helpers.copy_run(helpers.trained_run(checkpoint_every=1))
        config = helpers.tiny_config(model_dir, **{"train.checkpoint_every": 1})
        data = tf.io.gfile.glob(os.path.join(model_dir, "ckpt-2.data-*"))[0]
        with open(data, "r+b") as f:
            f.truncate(16)
        result = train_lib.train(helpers.with_train_steps(config, 3))
        self.assertEqual(result["step"], 3)

    def test_an_empty_checkpoint_state_file_is_rebuilt_and_the_run_resumes(self):
        # What a full disk or a crash while the manager rewrites it leaves.
        model_dir = helpers.copy_run(helpers.trained_run(checkpoint_every=1))
        config = helpers.tiny_config(model_dir, **{"train.checkpoint_every": 1})
        open(os.path.join(model_dir, run_dir.CHECKPOINT_STATE), "w").close()
        result = train_lib.train(helpers.with_train_steps(config, 3))
        self.assertEqual(result["step"], 3)
        self.assertEndsWith(tf.train.latest_checkpoint(model_dir), "ckpt-3")

    def test_a_non_finite_newest_checkpoint_is_skipped_for_the_newest_finite_one(self):
        model_dir = helpers.copy_run(helpers.trained_run(checkpoint_every=1))
        config = helpers.tiny_config(model_dir, **{"train.checkpoint_every": 1})
        # A newest checkpoint whose weights are NaN (a bit flip, or an older version).
        newest = run_dir.checkpoint_path(model_dir, 2)
        model = cyclegan.CycleGAN(config, steps_per_epoch=8)
        checkpoint = run_dir.checkpoint_tree(model)
        checkpoint.restore(newest).assert_existing_objects_matched()
        kernel = model.generator_a2b.trainable_variables[0]
        kernel.assign(tf.fill(kernel.shape, float("nan")))
        checkpoint.write(newest)
        result = train_lib.train(helpers.with_train_steps(config, 3))
        self.assertEqual(result["step"], 3)
        self.assertTrue(np.isfinite(result["losses"]["generators/total"]))

    def test_a_config_lacking_an_option_says_so_instead_of_a_change(self):
        model_dir = helpers.copy_run(helpers.trained_run())
        config = helpers.tiny_config(model_dir)  # ngf 4; the default is 64.
        path = os.path.join(model_dir, run_dir.CONFIG_FILE)
        with open(path) as f:
            values = json.load(f)
        del values["model"]["ngf"]
        with open(path, "w") as f:
            json.dump(values, f)
        with self.assertRaisesRegex(errors.RunDirError, "config.json lacks model.ngf, so"):
            train_lib.train(helpers.with_train_steps(config, 3))

    def test_second_trainer_on_a_run_is_refused(self):
        model_dir = self.get_temp_dir()
        with run_lock.lock(model_dir):
            with self.assertRaisesRegex(errors.RunDirError, "in use by another trainer"):
                train_lib.train(helpers.tiny_config(model_dir))


class NonLocalRunTest(tf.test.TestCase):
    def test_export_translate_and_evaluate_read_a_run_on_another_filesystem(self):
        model_dir = "ram://non_local_test/run"  # TensorFlow's in-memory filesystem.
        train_lib.train(helpers.tiny_config(model_dir, **{"train.train_steps": 1}))
        self.assertTrue(tf.io.gfile.exists(f"{model_dir}/{run_dir.CONFIG_FILE}"))
        export_dir = os.path.join(self.get_temp_dir(), "exported")
        export_lib.export(
            export_lib.ExportConfig(
                model_dir, export_dir, formats=("saved_model",), parity_images=1
            )
        )
        self.assertTrue(os.path.exists(os.path.join(export_dir, "saved_model", "saved_model.pb")))
        translate = translators.load(model_dir, "a2b")
        self.assertEqual(translate(np.zeros((1, 12, 20, 3), np.uint8)).shape, (1, 12, 20, 3))
        config, generators, _ = restore.load_generators(model_dir)
        builder = sources.get_builder(config.data.dataset, config.data.data_dir)
        results = evaluate_lib.evaluate(
            lambda x, d: generators[d](x, training=False), builder, config.data.crop_size
        )
        self.assertIn("a2b/cycle_mae", results)


if __name__ == "__main__":
    tf.test.main()
