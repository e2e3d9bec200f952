"""One process prepares a dataset in a data dir; the others wait for it, bounded."""

import fcntl
import os
import subprocess
import sys
import threading
import time

import tensorflow as tf

from tf_cyclegan.common import errors
from tf_cyclegan.data import prepare_once


class _Builder:
    """Stands in for a TFDS builder: prepared once ``<data_dir>/done`` exists."""

    name = "stand_in"

    def __init__(self, data_dir, log):
        self.data_dir, self._log = data_dir, log

    def is_prepared(self):
        return os.path.exists(os.path.join(self.data_dir, "done"))

    def download_and_prepare(self):
        self._log.append("prepared")
        os.makedirs(self.data_dir, exist_ok=True)
        open(os.path.join(self.data_dir, "done"), "w").close()


def _holder(lock_path):
    """Another process holding the preparation lock; it prints once it holds it."""
    script = (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "time.sleep(120)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, lock_path], stdout=subprocess.PIPE)
    assert process.stdout.readline().strip() == b"held"
    return process


class PreparedOnceTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.version_dir = os.path.join(self.get_temp_dir(), f"ds_{self.id()[-12:]}", "1.0.0")
        self.lock = f"{self.version_dir}.prepare.lock"
        os.makedirs(os.path.dirname(self.version_dir), exist_ok=True)
        self.log = []

    def _make(self):
        return _Builder(self.version_dir, self.log)

    def test_a_waiting_process_reads_what_the_preparer_wrote_and_prepares_nothing(self):
        holder = _holder(self.lock)
        self.addCleanup(holder.kill)

        def finish_preparing():  # The holder's work, then its exit (which frees the lock).
            time.sleep(1.5)
            _Builder(self.version_dir, []).download_and_prepare()
            holder.kill()

        threading.Thread(target=finish_preparing).start()
        builder = prepare_once.prepared(self._make, wait_s=60)
        self.assertTrue(builder.is_prepared())
        self.assertEmpty(self.log)  # Waited, found it prepared, prepared nothing itself.

    def test_the_wait_is_bounded_and_names_the_lock(self):
        holder = _holder(self.lock)
        self.addCleanup(holder.kill)
        start = time.monotonic()
        with self.assertRaisesRegex(errors.DataUnavailableError, "prepare.lock"):
            prepare_once.prepared(self._make, wait_s=1)
        self.assertLess(time.monotonic() - start, 10)

    def test_a_killed_preparer_blocks_nobody(self):
        holder = _holder(self.lock)
        holder.kill()  # SIGKILL: no cleanup ran; the kernel released the lock.
        holder.wait()
        builder = prepare_once.prepared(self._make, wait_s=5)
        self.assertTrue(builder.is_prepared())
        self.assertEqual(self.log, ["prepared"])

    def test_a_prepared_dataset_takes_no_lock(self):
        _Builder(self.version_dir, []).download_and_prepare()
        fd = os.open(self.lock, os.O_CREAT | os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)  # Held here: taking it would wait.
        self.addCleanup(os.close, fd)
        self.assertTrue(prepare_once.prepared(self._make, wait_s=0).is_prepared())


if __name__ == "__main__":
    tf.test.main()
