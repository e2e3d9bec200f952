"""Ctrl-C and SIGTERM during one long call (a large photo): the command stops at once."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import tensorflow as tf
from PIL import Image

import helpers
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import run_dir
from tf_cyclegan.training import cyclegan

# docker stop waits 10 s before SIGKILL; a command must be gone well within that.
_PROMPT_S = 5.0


def _paper_generator_run(model_dir):
    """A run directory holding the paper's ResNet-9 generators (untrained): one call on a
    megapixel photo takes seconds even on a fast CPU, as a trained model's does."""
    overrides = {"model.generator": "resnet_9blocks", "model.ngf": 64, "model.ndf": 64}
    config = helpers.tiny_config(model_dir, **overrides)
    model = cyclegan.CycleGAN(config, steps_per_epoch=1)
    run_dir.checkpoint_tree(model).write(run_dir.checkpoint_path(model_dir, 1))
    config_lib.save(config, model_dir)


class LongImageInterruptTest(tf.test.TestCase):
    def test_sigterm_during_one_large_photo_exits_within_seconds_writing_nothing(self):
        root = self.get_temp_dir()
        model_dir, output = os.path.join(root, "run"), os.path.join(root, "out")
        os.makedirs(model_dir)
        _paper_generator_run(model_dir)
        photo = os.path.join(root, "photo.png")
        # 2 megapixels: translated whole, in one call (a tile takes as long).
        pixels = np.random.default_rng(0).integers(0, 256, (1440, 1440, 3), np.uint8)
        Image.fromarray(pixels).save(photo)
        command = [sys.executable, "-m", "tf_cyclegan.translate", f"--model={model_dir}"]
        process = subprocess.Popen(
            [*command, f"--input={photo}", f"--output={output}"],
            cwd=helpers.ROOT,
            env=helpers.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.addCleanup(process.kill)
        for line in process.stdout:
            if line.startswith("Translating 1 image"):
                break
        time.sleep(1.0)  # Inside the call.
        process.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        _, stderr = process.communicate(timeout=120)
        waited = time.monotonic() - sent
        self.assertEqual(process.returncode, 143, stderr[-2000:])
        print(f"exited {waited:.2f} s after SIGTERM")
        self.assertLess(waited, _PROMPT_S)
        self.assertEqual(os.listdir(output), [])  # Nothing written, not even a part.


if __name__ == "__main__":
    tf.test.main()
