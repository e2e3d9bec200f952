"""Two MultiWorkerMirroredStrategy workers on 127.0.0.1, as separate processes."""

import os
import re
import signal
import subprocess
import sys

import numpy as np
import tensorflow as tf
from absl.testing import parameterized

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
    def test_two_workers_on_a_fresh_data_dir_train_in_sync_and_write_once(self):
        # Resuming: PreemptionTest and LostWorkerTest.
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


class LostWorkerTest(parameterized.TestCase, tf.test.TestCase):
    @parameterized.named_parameters(("worker", 1), ("chief", 0))
    def test_a_killed_task_is_one_line_naming_it_and_the_rerun_resumes(self, killed):
        model_dir = os.path.join(self.get_temp_dir(), f"run_{killed}")
        command = _cluster_command(model_dir, "--checkpoint_every=4")
        workers = _start_workers([*command, "--train_steps=1000"])
        self.addCleanup(lambda: [w.kill() for w in workers])
        for line in workers[0].stdout:  # The chief's progress, until a checkpoint is behind.
            if line.startswith("step 9/"):
                break
        workers[killed].kill()  # SIGKILL: nothing of the killed task says goodbye.
        survivor = workers[1 - killed]
        _, stderr = survivor.communicate(timeout=120)
        self.assertEqual(survivor.returncode, 2, stderr[-3000:])
        self.assertNotIn("Traceback", stderr)
        error = stderr.strip().splitlines()[-1]
        pattern = rf"error: worker {killed} of the cluster stopped .* resumes from (\S+)"
        found = re.fullmatch(pattern, error)
        self.assertIsNotNone(found, error)
        step = int(found.group(1).rsplit("-", 1)[1])
        self.assertGreaterEqual(step, 8)

        rerun = _start_workers([*command, f"--train_steps={step + 2}"])
        self.addCleanup(lambda: [w.kill() for w in rerun])
        outputs = [w.communicate(timeout=300)[0] for w in rerun]
        self.assertEqual([w.returncode for w in rerun], [0, 0], outputs[0][-2000:])
        self.assertIn(f"Resumed from {found.group(1)} at step {step}", outputs[0])


def _cluster_command(model_dir, *flags):
    return [
        *helpers.smoke_train_command(model_dir, *helpers.TINY_NETWORK_FLAGS),
        "--strategy=multi_worker",
        "--log_every=1",
        "--deterministic",
        *flags,
    ]


def _values(checkpoint):
    skip = ("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter/.ATTRIBUTES/VARIABLE_VALUE")
    names = [n for n, _ in tf.train.list_variables(checkpoint) if n not in skip]
    return {n: tf.train.load_variable(checkpoint, n) for n in names}


class PreemptionTest(tf.test.TestCase):
    """SIGTERM to one task (a preempted VM) saves the same step on every task, losing none."""

    def _terminate(self, model_dir, task):
        """Trains until a step is past, sends SIGTERM to ``task``; returns the saved step."""
        # No periodic checkpoint: what is saved is the preemption's.
        workers = _start_workers(
            _cluster_command(model_dir, "--train_steps=1000", "--checkpoint_every=1000")
        )
        self.addCleanup(lambda: [w.kill() for w in workers])
        for line in workers[0].stdout:
            if line.startswith("step 4/"):
                break
        workers[task].send_signal(signal.SIGTERM)
        outputs = [w.communicate(timeout=120)[0] for w in workers]
        self.assertEqual([w.returncode for w in workers], [143, 143], outputs)
        saved = [re.findall(r"Interrupted: saved step (\d+)", out) for out in outputs]
        self.assertEqual(saved[0], saved[1])  # Every task saved, at the same step.
        self.assertLen(saved[0], 1)
        return int(saved[0][0])

    def test_sigterm_to_a_worker_or_the_chief_loses_no_step(self):
        runs = {}
        for task in (1, 0):
            model_dir = os.path.join(self.get_temp_dir(), f"sigterm_{task}")
            runs[task] = (model_dir, self._terminate(model_dir, task))
            self.assertEqual(
                tf.train.latest_checkpoint(model_dir), f"{model_dir}/ckpt-{runs[task][1]}"
            )
        # An uninterrupted run, saving every step: the saved steps hold its weights, bit
        # for bit (deterministic ops; a sum of two workers' values is exact either way).
        reference = os.path.join(self.get_temp_dir(), "uninterrupted")
        last = max(step for _, step in runs.values())
        command = _cluster_command(reference, f"--train_steps={last}", "--checkpoint_every=1")
        workers = _start_workers([*command, "--max_to_keep=1000"])
        self.assertEqual([w.wait(timeout=300) for w in workers], [0, 0])
        for task, (model_dir, step) in runs.items():
            expected = _values(f"{reference}/ckpt-{step}")
            for name, value in _values(f"{model_dir}/ckpt-{step}").items():
                self.assertAllEqual(value, expected[name], msg=f"task {task}: {name}")

        # The same command resumes at the saved step, and a finished run leaves no scratch.
        model_dir, step = runs[0]
        workers = _start_workers(_cluster_command(model_dir, f"--train_steps={step + 1}"))
        outputs = [w.communicate(timeout=300)[0] for w in workers]
        self.assertEqual([w.returncode for w in workers], [0, 0], outputs[0][-2000:])
        self.assertIn(f"Resumed from {model_dir}/ckpt-{step} at step {step}", outputs[0])
        self.assertEmpty([n for n in os.listdir(model_dir) if n.startswith(".worker")])


if __name__ == "__main__":
    tf.test.main()
