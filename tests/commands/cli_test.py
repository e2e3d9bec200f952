"""Expected user errors print one line, `error: ...`, and exit 2: no traceback."""

import os
import signal
import subprocess

import tensorflow as tf
from absl.testing import parameterized

import helpers


class OneLineErrorTest(tf.test.TestCase, parameterized.TestCase):
    def _assert_one_line_error(self, result, *phrases):
        self.assertEqual(result.returncode, 2, result.stderr[-2000:])
        self.assertNotIn("Traceback", result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        self.assertStartsWith(last, "error: ")
        for phrase in phrases:
            self.assertIn(phrase, last)

    # An invalid option and an unknown flag (absl's parser): both paths to the one line.
    # Which options are refused with which words: one_line_errors_test, in-process.
    @parameterized.parameters(
        (["--batch_size=0"], "--batch_size=0"),
        (["--bogus_flag=1"], "Unknown command line flag 'bogus_flag'"),
    )
    def test_train_refuses_bad_options_in_one_line(self, flags, phrase):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        result = helpers.run_python(
            "-m",
            "tf_cyclegan.train",
            "--flagfile=flags/smoke.cfg",
            f"--model_dir={model_dir}",
            f"--data_dir={helpers.synthetic_data_dir()}",
            *flags,
        )
        self._assert_one_line_error(result, phrase)
        self.assertFalse(os.path.exists(os.path.join(model_dir, "config.json")))

    def test_model_dir_that_is_a_file(self):
        path = os.path.join(self.get_temp_dir(), "afile")
        with open(path, "w") as f:
            f.write("mine")
        result = helpers.run_python(
            "-m",
            "tf_cyclegan.train",
            "--flagfile=flags/smoke.cfg",
            f"--model_dir={path}",
            f"--data_dir={helpers.synthetic_data_dir()}",
        )
        self._assert_one_line_error(result, path)
        with open(path) as f:
            self.assertEqual(f.read(), "mine")

    def test_export_of_a_missing_run(self):
        missing = os.path.join(self.get_temp_dir(), "nothing")
        result = helpers.run_python(
            "-m", "tf_cyclegan.export", f"--model_dir={missing}", f"--export_dir={missing}2"
        )
        self._assert_one_line_error(result, "does not exist")


class InterruptTest(tf.test.TestCase, parameterized.TestCase):
    # SIGTERM is what timeout, job schedulers and docker stop send: the same as Ctrl-C.
    @parameterized.parameters((signal.SIGINT, 130), (signal.SIGTERM, 143))
    def test_a_signal_saves_the_current_step_and_the_same_command_resumes(self, signum, status):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        command = helpers.smoke_train_command(
            model_dir,
            "--train_steps=1000000",
            "--checkpoint_every=1000",
            "--log_every=1",
            "--summary_every=1000",
            "--sample_every=1000",
            *helpers.TINY_NETWORK_FLAGS,
        )
        # A million steps: the run cannot finish before the signal, however busy the machine
        # (with 500 it once did, on a loaded 2-core CPU, and exited 0).
        process = subprocess.Popen(
            command,
            cwd=helpers.ROOT,
            env=helpers.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for line in process.stdout:
            if line.startswith("step 3/"):
                break
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=120)
        self.assertEqual(process.returncode, status)
        saved = tf.train.latest_checkpoint(model_dir)
        self.assertIsNotNone(saved)
        step = int(saved.rsplit("-", 1)[1])
        self.assertGreaterEqual(step, 3)
        self.assertIn(f"Interrupted: saved step {step}", rest)


if __name__ == "__main__":
    tf.test.main()
