import dataclasses
import glob
import json
import os
import tempfile

import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors
from tf_cyclegan.training import train_lib


class ExactResumeTest(tf.test.TestCase):
    def test_stopping_and_resuming_gives_the_same_weights_as_one_run(self):
        # 8 images, batch 2: 4 steps per epoch, so the resumed half starts mid-epoch 1
        # and crosses into epoch 2, with the pool full.
        overrides = {
            "train.deterministic": True,
            "data.max_dataset_size": 8,
            "train.checkpoint_every": 3,
        }
        straight_dir = os.path.join(self.get_temp_dir(), "straight")
        train_lib.train(helpers.tiny_config(straight_dir, **overrides, **{"train.train_steps": 6}))
        # The run as it stood after saving step 3, resumed in a new model and pipeline.
        resumed_dir = helpers.stopped_copy(straight_dir, 3)
        config = helpers.tiny_config(resumed_dir, **overrides, **{"train.train_steps": 6})
        result = helpers.resumed(self, 3, train_lib.train, config)

        self.assertEqual(result["step"], 6)
        straight, resumed = (
            helpers.checkpoint_values(straight_dir),
            helpers.checkpoint_values(resumed_dir),
        )
        self.assertEqual(set(straight), set(resumed))
        self.assertTrue(any("pool_a/images" in n for n in straight))
        self.assertTrue(any("optimizer/_iterations" in n for n in straight))
        for name in straight:
            self.assertAllClose(straight[name], resumed[name], atol=1e-6, rtol=1e-6, msg=name)


class RunOutputsTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model_dir = os.path.join(tempfile.mkdtemp(), "run")
        cls.config = helpers.tiny_config(cls.model_dir)
        cls.result = train_lib.train(cls.config)

    def test_writes_checkpoints_config_and_samples(self):
        self.assertEqual(tf.train.latest_checkpoint(self.model_dir), f"{self.model_dir}/ckpt-4")
        # The run records its replica count, part of its identity.
        recorded = dataclasses.replace(
            self.config, train=dataclasses.replace(self.config.train, num_replicas=1)
        )
        self.assertEqual(config_lib.load(self.model_dir), recorded)
        samples = sorted(os.path.basename(p) for p in glob.glob(f"{self.model_dir}/samples/*"))
        self.assertIn("step_00000004_a2b.png", samples)
        self.assertIn("step_00000004_b2a.png", samples)
        image = tf.io.decode_png(tf.io.read_file(f"{self.model_dir}/samples/step_00000004_a2b.png"))
        self.assertEqual(image.shape, (2 * 32, 3 * 32, 3))  # 2 samples x (real, fake, rec).

    def test_tensorboard_has_every_loss_lr_throughput_and_images(self):
        events = event_accumulator.EventAccumulator(
            os.path.join(self.model_dir, "train"), size_guidance={"tensors": 0}
        ).Reload()
        tags = set(events.Tags()["tensors"])
        for name in (
            "generator_a2b/adversarial",
            "generators/cycle_b",
            "generator_b2a/identity",
            "discriminator_a/real",
            "discriminator_b/fake",
        ):
            self.assertIn(f"losses/{name}", tags)
        for tag in ("learning_rate", "images_per_second", "samples/a2b", "samples/b2a", "config"):
            self.assertIn(tag, tags)
        self.assertIn("eval/a2b/mae", tags)

    def test_reports_held_out_error_against_the_untranslated_baseline(self):
        with open(os.path.join(self.model_dir, "eval.json")) as f:
            saved = json.load(f)
        for key in ("a2b/mae", "a2b/untranslated_mae", "b2a/psnr", "b2a/untranslated_psnr"):
            self.assertIn(key, self.result["eval"])
            self.assertAllClose(saved[key], self.result["eval"][key])

    def test_refuses_to_resume_with_different_networks(self):
        changed = dataclasses.replace(
            self.config, model=dataclasses.replace(self.config.model, ngf=8)
        )
        with self.assertRaisesRegex(errors.RunDirError, r"other options \(model.ngf 4 -> 8\)"):
            train_lib.train(changed)

    def test_rerunning_a_finished_run_trains_nothing(self):
        self.assertEqual(train_lib.train(self.config)["step"], 4)


class ValidationTest(tf.test.TestCase):
    def test_crop_size_must_suit_the_generator(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"data.crop_size": 30})
        with self.assertRaisesRegex(ValueError, "--crop_size=30 .* multiple of 4"):
            train_lib.train(config)

    def test_load_size_must_cover_the_crop(self):
        config = helpers.tiny_config(self.get_temp_dir(), **{"data.load_size": 16})
        with self.assertRaisesRegex(ValueError, "--load_size=16 must be >= --crop_size=32"):
            train_lib.train(config)

    def test_config_round_trips_through_json(self):
        config = helpers.tiny_config("/tmp/x")
        self.assertEqual(config_lib.Config.from_dict(json.loads(config.to_json())), config)

    def test_unknown_config_keys_are_named(self):
        with self.assertRaisesRegex(ValueError, r"unknown model options \['ngff'\]"):
            config_lib.Config.from_dict({"model": {"ngff": 3}})


if __name__ == "__main__":
    tf.test.main()
