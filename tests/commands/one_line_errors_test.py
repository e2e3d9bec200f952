"""Mistakes a user makes get the right one-line error, naming what to do instead."""

import os
import tempfile

import tensorflow as tf

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors, run_dir
from tf_cyclegan.networks import restore
from tf_cyclegan.pretrained import import_torch_lib
from tf_cyclegan.serving import translate_lib
from tf_cyclegan.training import train_lib


class OneLineErrorsTest(tf.test.TestCase):
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
