"""One trainer per run directory: an ``flock`` locally, a lease file elsewhere.

A second trainer on the same run gets ``RunDirError`` at once; a killed trainer's hold ends
with it (the kernel releases the flock, even on ``kill -9``; a lease lapses after
``LEASE_S``). A first run refused before it started leaves no lock file and no directory.
"""

import contextlib
import fcntl
import os
import socket
import threading
import time

import tensorflow as tf

from tf_cyclegan.common import errors, run_dir

LEASE_REFRESH_S = 20.0
LEASE_S = 90.0


@contextlib.contextmanager
def lock(model_dir):
    """Holds ``model_dir`` for one writer; a second one gets ``RunDirError`` at once.

    Locally an ``flock`` on ``.lock``, which the kernel releases when the process dies,
    SIGKILL included. Elsewhere (``gs://``, ``ram://``) a lease file refreshed by a thread:
    a killed trainer's lease lapses after ``LEASE_S`` seconds.
    """
    if tf.io.gfile.exists(model_dir) and not tf.io.gfile.isdir(model_dir):
        raise errors.RunDirError(f"--model_dir={model_dir} is a file; choose a folder path")
    created = not tf.io.gfile.exists(model_dir)
    tf.io.gfile.makedirs(model_dir)
    path = os.path.join(model_dir, run_dir.LOCK_FILE)
    holder = f"{socket.gethostname()} pid {os.getpid()}"
    try:
        if run_dir.is_local(path):
            with _flock(path.removeprefix("file://"), holder, model_dir):
                yield
        else:
            with _lease(path, holder, model_dir):
                yield
    finally:
        # A first run refused before it started leaves no directory behind.
        if created and tf.io.gfile.isdir(model_dir) and not tf.io.gfile.listdir(model_dir):
            tf.io.gfile.rmtree(model_dir)


def _refusal(model_dir, other):
    return errors.RunDirError(
        f"{model_dir} is in use by another trainer ({other}); wait for it to finish, or "
        "use another --model_dir"
    )


@contextlib.contextmanager
def _flock(path, holder, model_dir):

    created = not os.path.exists(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise _refusal(model_dir, other) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        try:
            yield
        finally:
            # A run that never started (no config.json) keeps no lock file of ours.
            if created and not os.path.exists(os.path.join(model_dir, run_dir.CONFIG_FILE)):
                os.remove(path)
    finally:
        os.close(fd)  # Releases the flock.


def _read_lease(path):
    try:
        with tf.io.gfile.GFile(path) as f:
            holder, stamp = f.read().rsplit(" at ", 1)
        return holder, float(stamp)
    except (tf.errors.OpError, ValueError):
        return None


@contextlib.contextmanager
def _lease(path, holder, model_dir):
    lease = _read_lease(path)
    if lease and lease[0] != holder and time.time() - lease[1] < LEASE_S:
        raise _refusal(model_dir, lease[0])
    stop = threading.Event()

    def refresh():
        while True:
            run_dir.write_atomically(path, f"{holder} at {time.time()}")
            if stop.wait(LEASE_REFRESH_S):
                return

    run_dir.write_atomically(path, f"{holder} at {time.time()}")
    thread = threading.Thread(target=refresh, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        tf.io.gfile.remove(path)
