"""The run directory's contract: one writer at a time, and checkpoints that restore."""

import os
import signal
import subprocess
import sys
import time

import tensorflow as tf

from tf_cyclegan.common import errors, run_dir, run_lock

_HOLD = """
import sys, time
from tf_cyclegan.common import run_lock
with run_lock.lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


def _save_checkpoints(model_dir, values=(1.0, 2.0, 3.0)):
    variable = tf.Variable(0.0)
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(v=variable), model_dir, 5)
    for step, value in enumerate(values, start=1):
        variable.assign(value)
        manager.save(checkpoint_number=step)
    return tf.train.Checkpoint(v=tf.Variable(0.0))


class LockTest(tf.test.TestCase):
    def test_second_writer_is_refused_and_sigkill_releases_the_lock(self):
        model_dir = self.get_temp_dir()
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD, model_dir], stdout=subprocess.PIPE, text=True
        )
        self.assertEqual(holder.stdout.readline().strip(), "held")
        with self.assertRaisesRegex(errors.RunDirError, f"in use by another trainer.*{holder.pid}"):
            with run_lock.lock(model_dir):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        with run_lock.lock(model_dir):  # Released by the kernel with the process.
            pass

    def test_lease_on_a_filesystem_without_flock(self):
        model_dir = "ram://lease_test/run"
        lock_path = os.path.join(model_dir, run_dir.LOCK_FILE)
        tf.io.gfile.makedirs(model_dir)
        run_dir.write_atomically(lock_path, f"otherhost pid 1 at {time.time()}")
        with self.assertRaisesRegex(errors.RunDirError, "otherhost pid 1"):
            with run_lock.lock(model_dir):
                pass
        # A lapsed lease (its holder was killed) is taken over, and released after.
        run_dir.write_atomically(lock_path, f"otherhost pid 1 at {time.time() - run_lock.LEASE_S}")
        with run_lock.lock(model_dir):
            self.assertTrue(tf.io.gfile.exists(lock_path))
        self.assertFalse(tf.io.gfile.exists(lock_path))


class RestoreNewestTest(tf.test.TestCase):
    def _restore(self, checkpoint):
        return lambda p: checkpoint.restore(p).assert_existing_objects_matched()

    def test_truncated_newest_checkpoint_falls_back_to_the_previous_one(self):
        model_dir = self.get_temp_dir()
        checkpoint = _save_checkpoints(model_dir)
        data = tf.io.gfile.glob(os.path.join(model_dir, "ckpt-3.data-*"))[0]
        with open(data, "r+b") as f:
            f.truncate(2)
        restored = run_dir.restore_newest(self._restore(checkpoint), model_dir)
        self.assertEqual(restored, os.path.join(model_dir, "ckpt-2"))
        self.assertEqual(float(checkpoint.v.numpy()), 2.0)

    def test_bit_flipped_newest_checkpoint_falls_back(self):
        model_dir = self.get_temp_dir()
        checkpoint = _save_checkpoints(model_dir)
        data = tf.io.gfile.glob(os.path.join(model_dir, "ckpt-3.data-*"))[0]
        with open(data, "r+b") as f:
            raw = bytearray(f.read())
            raw[0] ^= 0x40  # The float's bytes: only the checksum can tell.
            f.seek(0)
            f.write(raw)
        restored = run_dir.restore_newest(self._restore(checkpoint), model_dir)
        self.assertEqual(restored, os.path.join(model_dir, "ckpt-2"))

    def test_no_checkpoint_restores_is_an_error_naming_them(self):
        model_dir = self.get_temp_dir()
        checkpoint = _save_checkpoints(model_dir, values=(1.0,))
        with open(os.path.join(model_dir, "ckpt-1.index"), "wb") as f:
            f.write(b"garbage")
        with self.assertRaisesRegex(errors.RunDirError, "ckpt-1"):
            run_dir.restore_newest(self._restore(checkpoint), model_dir)

    def test_checkpoint_rotated_away_while_read_makes_it_look_again(self):
        # A trainer beside an evaluate: it saves ckpt-4 and deletes ckpt-1..3 (max_to_keep=1)
        # between our listing and our read.
        model_dir = self.get_temp_dir()
        checkpoint = _save_checkpoints(model_dir)
        trainer = tf.train.CheckpointManager(
            tf.train.Checkpoint(v=tf.Variable(4.0)), model_dir, max_to_keep=1
        )
        restore = self._restore(checkpoint)

        def restore_during_rotation(prefix):
            if not tf.io.gfile.exists(os.path.join(model_dir, "ckpt-4.index")):
                trainer.save(checkpoint_number=4)
            restore(prefix)

        restored = run_dir.restore_newest(restore_during_rotation, model_dir)
        self.assertEqual(restored, os.path.join(model_dir, "ckpt-4"))
        self.assertEqual(float(checkpoint.v.numpy()), 4.0)

    def test_empty_directory_has_nothing_to_restore(self):
        self.assertIsNone(run_dir.restore_newest(lambda p: None, self.get_temp_dir()))

    def test_removes_only_folders_of_killed_saves(self):
        model_dir = self.get_temp_dir()
        _save_checkpoints(model_dir, values=(1.0,))
        os.makedirs(os.path.join(model_dir, "ckpt-2_temp", "part-00000-of-00001"))
        os.makedirs(os.path.join(model_dir, "my_notes"))
        run_dir.remove_killed_saves(model_dir)
        names = set(os.listdir(model_dir))
        self.assertNotIn("ckpt-2_temp", names)
        self.assertIn("my_notes", names)
        self.assertIn("ckpt-1.index", names)


if __name__ == "__main__":
    tf.test.main()
