"""Mistakes a user makes get the right one-line error, naming what to do instead."""

import os
import tempfile

import tensorflow as tf
from absl import flags
from absl.testing import parameterized

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import config_flags, errors, run_dir
from tf_cyclegan.networks import restore
from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.serving import translate_lib
from tf_cyclegan.training import train_lib


class OneLineErrorsTest(tf.test.TestCase, parameterized.TestCase):
    @parameterized.parameters(
        (["--lr=1e15", "--lr=-1"], "--lr=-1.0"),  # The last value given is the one named.
        (["--dataset=/no/such/folder"], "does not exist"),
        (["--dataset=cycle_gan/hors2zebra"], "cycle_gan/horse2zebra"),
    )
    def test_train_flags_that_are_refused_name_the_value(self, values, phrase):
        # What `python -m tf_cyclegan.train` does with its flags, on a FlagValues of its own
        # (this process holds other commands' flags of the same names).
        model_dir = os.path.join(self.get_temp_dir(), "run")
        flag_values = flags.FlagValues()
        config_flags.define_flags(flag_values=flag_values)
        smoke = os.path.join(helpers.ROOT, "flags", "smoke.cfg")
        data_dir = helpers.synthetic_data_dir()
        argv = [
            "train",
            f"--flagfile={smoke}",
            f"--model_dir={model_dir}",
            f"--data_dir={data_dir}",
        ]
        flag_values([*argv, *values])
        with self.assertRaises(errors.UserError) as caught:
            train_lib.train(config_flags.config_from_flags(flag_values=flag_values))
        self.assertIn(phrase, str(caught.exception))
        self.assertNotIn("\n", str(caught.exception))
        self.assertFalse(os.path.exists(model_dir))

    def test_a_checkpoint_flag_naming_a_run_folder_suggests_its_newest_checkpoint(self):
        run = helpers.trained_run()
        with self.assertRaisesRegex(errors.ConfigError, r"is a folder; .*ckpt-2"):
            restore.load_generators(run, checkpoint=run)

    def test_a_checkpoint_flag_naming_nothing_says_it_does_not_exist(self):
        missing = os.path.join(helpers.trained_run(), "ckpt-99")
        with self.assertRaisesRegex(errors.MissingError, "ckpt-99 does not exist"):
            restore.load_generators(helpers.trained_run(), checkpoint=missing)

    def test_a_file_given_as_a_run_directory_says_it_is_a_file(self):
        config_file = os.path.join(helpers.trained_run(), run_dir.CONFIG_FILE)
        with self.assertRaisesRegex(errors.ConfigError, "is a file, not a run directory"):
            config_lib.load(config_file)

    def test_an_unknown_direction_is_named_not_turned_into_a_flag(self):
        with self.assertRaisesRegex(errors.ConfigError, "unknown direction 'c2d'; expected a2b"):
            run_dir.require_direction(("a2b", "b2a"), "c2d", "run")

    def test_a_pth_folder_asks_for_the_file_in_it(self):
        config = import_torch_lib.ImportConfig(
            model_dir=os.path.join(tempfile.mkdtemp(), "run"),
            checkpoints={"a2b": tempfile.mkdtemp()},
        )
        with self.assertRaisesRegex(errors.ConfigError, "is a folder; pass the .pth file"):
            import_torch_lib.import_checkpoints(config)

    def test_a_folder_of_videos_says_how_to_translate_them(self):
        folder = tempfile.mkdtemp()
        open(os.path.join(folder, "clip.mp4"), "w").close()
        with self.assertRaisesRegex(errors.ConfigError, "no images but 1 video.*clip.mp4"):
            translate_lib.translate_paths(helpers.trained_run(), "a2b", folder, folder + "_out")

    def test_a_refused_first_run_leaves_no_directory_and_no_lock(self):
        model_dir = os.path.join(tempfile.mkdtemp(), "typo")
        config = helpers.tiny_config(model_dir, **{"data.dataset": "cycle_gan/hors2zebra"})
        with self.assertRaises(errors.ConfigError):
            train_lib.train(config)
        self.assertFalse(os.path.exists(model_dir))

    def test_a_refused_run_in_an_existing_folder_keeps_the_folder_without_a_lock(self):
        model_dir = tempfile.mkdtemp()
        with open(os.path.join(model_dir, "notes.txt"), "w") as f:
            f.write("mine")
        config = helpers.tiny_config(model_dir, **{"data.dataset": "cycle_gan/hors2zebra"})
        with self.assertRaises(errors.ConfigError):
            train_lib.train(config)
        self.assertEqual(os.listdir(model_dir), ["notes.txt"])


if __name__ == "__main__":
    tf.test.main()
