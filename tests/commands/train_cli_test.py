"""The train binary as a user runs it: flagfiles, --help, and resume after kill -9."""

import os
import re
import signal
import subprocess
import time

import tensorflow as tf

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.pretrained import import_torch_lib


class TrainCliTest(tf.test.TestCase):
    def test_smoke_flagfile_trains_and_says_where_outputs_are(self):
        model_dir = os.path.join(self.get_temp_dir(), "smoke")
        result = helpers.run_python(*helpers.smoke_train_command(model_dir)[1:])
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("step 4/4", result.stdout)
        self.assertIn(f"tensorboard --logdir {model_dir}", result.stdout)
        self.assertEqual(tf.train.latest_checkpoint(model_dir), f"{model_dir}/ckpt-4")
        self.assertTrue(os.path.exists(f"{model_dir}/config.json"))
        self.assertNotEmpty(os.listdir(f"{model_dir}/samples"))
        # A quiet console: the precision chosen, no Python INFO logs (datasets opened,
        # checkpoint sharding, convolution timings); --verbosity=0 brings them back.
        self.assertRegex(result.stdout, r"Precision: (float32|bfloat16) \(auto: ")
        python_info = re.compile(r"^I\d{4} [\d:.]+ +\d+ \w+\.py:\d+\]", re.MULTILINE)
        self.assertNotRegex(result.stderr, python_info)

    def test_help_documents_every_flag(self):
        result = helpers.run_python("-m", "tf_cyclegan.train", "--help")  # absl exits 1.
        self.assertIn("resumes the run in --model_dir", result.stdout)
        for flag in (
            "dataset",
            "data_dir",
            "generator",
            "discriminator",
            "n_layers_d",
            "ngf",
            "ndf",
            "init_type",
            "upsample",
            "gan_mode",
            "lambda_a",
            "lambda_b",
            "lambda_identity",
            "pool_size",
            "lr",
            "beta1",
            "lr_policy",
            "epochs",
            "epochs_decay",
            "load_size",
            "crop_size",
            "no_flip",
            "batch_size",
            "model_dir",
            "train_steps",
            "seed",
            "checkpoint_every",
            "max_to_keep",
            "summary_every",
            "sample_every",
            "jit_compile",
        ):
            self.assertRegex(result.stdout, rf"--(\[no\])?{flag}:")

    def test_bad_flag_value_is_named(self):
        command = helpers.smoke_train_command(self.get_temp_dir(), "--generator=resnet_7blocks")
        result = helpers.run_python(*command[1:])
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("resnet_7blocks", result.stderr)
        self.assertIn("resnet_9blocks", result.stderr)

    def test_resumes_after_sigkill(self):
        model_dir = os.path.join(self.get_temp_dir(), "killed")
        command = helpers.smoke_train_command(
            model_dir,
            "--train_steps=40",
            "--checkpoint_every=1",
            "--sample_every=1000",
            "--summary_every=1000",
            *helpers.TINY_NETWORK_FLAGS,
        )
        process = subprocess.Popen(
            command,
            cwd=helpers.ROOT,
            env=helpers.subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 240
        while tf.train.latest_checkpoint(model_dir) is None and time.monotonic() < deadline:
            time.sleep(0.2)
        # Checkpoints are written every step, so the kill likely lands inside a save.
        time.sleep(0.5)
        process.send_signal(signal.SIGKILL)
        process.wait()
        killed_at = int(tf.train.latest_checkpoint(model_dir).rsplit("-", 1)[1])
        self.assertLess(killed_at, 40)

        result = helpers.run_python(*command[1:])
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn(f"Resumed from {model_dir}/ckpt-{killed_at}", result.stdout)
        self.assertEqual(tf.train.latest_checkpoint(model_dir), f"{model_dir}/ckpt-40")


class InitFromCliTest(tf.test.TestCase):
    def test_fine_tunes_an_imported_official_generator_from_the_command_line(self):
        source = os.path.join(self.get_temp_dir(), "imported")
        fixture = os.path.join(helpers.FIXTURES, "pretrained", "resnet.pth")
        import_torch_lib.import_checkpoints(
            import_torch_lib.ImportConfig(source, {"a2b": fixture}, crop_size=32)
        )
        model_dir = os.path.join(self.get_temp_dir(), "tuned")
        command = [
            "-m",
            "tf_cyclegan.train",
            f"--init_from={source}",
            f"--model_dir={model_dir}",
            "--dataset=synthetic",
            f"--data_dir={helpers.synthetic_data_dir()}",
            "--load_size=36",
            "--crop_size=32",
            "--ndf=4",
            "--max_dataset_size=8",
            "--num_samples=1",
        ]
        result = helpers.run_python(*command, "--train_steps=1")
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn(f"Started from {source}/ckpt-1: generator_a2b\n", result.stdout)
        recorded = config_lib.load(model_dir)
        self.assertEqual(recorded.train.init_from, source)
        self.assertTrue(recorded.model.pytorch_compatible)  # Taken from the source.
        # That such a run resumes exactly: init_from_test, with the config this command gave.


if __name__ == "__main__":
    tf.test.main()
