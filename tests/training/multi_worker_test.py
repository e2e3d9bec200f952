"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1, as separate processes."""

import os
import re
import subprocess
import sys

import numpy as np
import tensorflow as tf

import helpers
from tf_cyclegan.training import distribute

# Each worker trains through the library, then saves its generator weights for comparison.
_WORKER = """
import json, sys
import numpy as np
from tf_cyclegan.training import distribute
strategy = distribute.make_strategy("multi_worker")  # First: before any other TF work.
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.training import train_lib
result = train_lib.train(config_lib.Config.from_dict(json.loads(sys.argv[1])), strategy)
weights = result["model"].generator_a2b.variables + result["model"].discriminator_b.variables
np.savez(sys.argv[2], *[v.numpy() for v in weights])
"""


def _run_cluster(config, out_dir):
    processes = []
    for task, tf_config in enumerate(distribute.local_cluster(2)):
        env = helpers.subprocess_env(TF_CONFIG=tf_config)  # The tests' settings and generator.
        command = [sys.executable, "-c", _WORKER, config.to_json(), f"{out_dir}/w{task}.npz"]
        output = dict(stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(subprocess.Popen(command, cwd=helpers.ROOT, env=env, **output))
    outputs = [p.communicate(timeout=420)[0] for p in processes]
    for task, (process, output) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, f"worker {task} failed:\n{output[-4000:]}"
    return outputs


class MultiWorkerTest(tf.test.TestCase):
    def test_two_workers_train_in_sync_write_once_and_resume(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        # A fresh data dir: both workers find the dataset unprepared at once, as on a
        # cluster's first run (they raced, deleting each other's incomplete.* folders).
        data_dir = os.path.join(self.get_temp_dir(), "fresh_tfds")
        overrides = {"train.train_steps": 2, "data.data_dir": data_dir}
        config = helpers.tiny_config(model_dir, **overrides)
        outputs = _run_cluster(config, self.get_temp_dir())

        first = np.load(f"{self.get_temp_dir()}/w0.npz")
        second = np.load(f"{self.get_temp_dir()}/w1.npz")
        for key in first:
            self.assertAllClose(first[key], second[key], atol=1e-6, msg=key)
        self.assertEqual(tf.train.latest_checkpoint(model_dir), f"{model_dir}/ckpt-2")
        leftovers = [name for name in os.listdir(model_dir) if name.startswith(".worker")]
        self.assertEmpty(leftovers)  # The non-chief's scratch checkpoints are removed.
        self.assertLen(os.listdir(os.path.join(model_dir, "train")), 1)  # Chief's events only.
        self.assertIn("step 2/2", outputs[0])
        self.assertNotIn("step 2/2", outputs[1])

        resumed = helpers.tiny_config(model_dir, **{**overrides, "train.train_steps": 4})
        outputs = _run_cluster(resumed, self.get_temp_dir())
        for output in outputs:
            self.assertIn(f"Resumed from {model_dir}/ckpt-2 at step 2", output)
        self.assertEqual(tf.train.latest_checkpoint(model_dir), f"{model_dir}/ckpt-4")


def _start_workers(command):
    return [
        subprocess.Popen(
            command,
            cwd=helpers.ROOT,
            env=helpers.subprocess_env(TF_CONFIG=tf_config),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for tf_config in distribute.local_cluster(2)
    ]


class LostWorkerTest(tf.test.TestCase):
    def test_a_killed_worker_is_one_line_naming_it_and_the_rerun_resumes(self):
        model_dir = os.path.join(self.get_temp_dir(), "run")
        command = [
            *helpers.smoke_train_command(model_dir, *helpers.TINY_NETWORK_FLAGS),
            "--strategy=multi_worker",
            "--checkpoint_every=4",
            "--log_every=1",
        ]
        workers = _start_workers([*command, "--train_steps=1000"])
        self.addCleanup(lambda: [w.kill() for w in workers])
        for line in workers[0].stdout:  # The chief's progress, until a checkpoint is behind.
            if line.startswith("step 9/"):
                break
        workers[1].kill()  # SIGKILL: nothing of worker 1 says goodbye.
        _, stderr = workers[0].communicate(timeout=120)
        self.assertEqual(workers[0].returncode, 2, stderr[-3000:])
        self.assertNotIn("Traceback", stderr)
        error = stderr.strip().splitlines()[-1]
        found = re.fullmatch(r"error: worker 1 of the cluster stopped .* resumes from (\S+)", error)
        self.assertIsNotNone(found, error)
        step = int(found.group(1).rsplit("-", 1)[1])
        self.assertGreaterEqual(step, 8)

        rerun = _start_workers([*command, f"--train_steps={step + 2}"])
        self.addCleanup(lambda: [w.kill() for w in rerun])
        outputs = [w.communicate(timeout=300)[0] for w in rerun]
        self.assertEqual([w.returncode for w in rerun], [0, 0], outputs[0][-2000:])
        self.assertIn(f"Resumed from {found.group(1)} at step {step}", outputs[0])


if __name__ == "__main__":
    tf.test.main()
