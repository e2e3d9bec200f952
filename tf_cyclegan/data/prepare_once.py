"""One process prepares a dataset version in a data directory; the others wait for it.

Every worker of a multi-worker run resolves the same ``--dataset`` in the same shared
``--data_dir`` at once. TFDS prepares into ``incomplete.*`` folders that a second preparer
deletes under the first (``FileNotFoundError: .../incomplete.*/features.json``), so the first
run of a cluster failed. Here a preparer holds an exclusive ``flock`` on
``<version dir>.prepare.lock`` (local disks and NFS; the kernel releases it when the process
dies, so a killed preparer never blocks the next); the others wait for it, bounded, then
find the dataset prepared and only read it. On object stores (``gs://``) there is no lock:
prepare the dataset once before starting the cluster there.
"""

import contextlib
import errno
import fcntl
import os
import time

from tf_cyclegan.common import errors

WAIT_S = 3 * 3600  # The largest cycle_gan dataset prepares in minutes; a hung one is not.
_POLL_S = 1.0


@contextlib.contextmanager
def _lock(path, name, wait_s):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline, told = time.monotonic() + wait_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not told:
                print(f"Waiting for another process that is preparing {name} ...", flush=True)
                told = True
            if time.monotonic() > deadline:
                raise errors.DataUnavailableError(
                    f"another process has been preparing {name} for {wait_s / 60:.0f} minutes "
                    f"(it holds {path}); stop it, or prepare into another --data_dir"
                )
            time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # Releases the lock.


def prepared(make_builder, prepare=None, name=None, wait_s=WAIT_S):
    """A prepared builder, preparing it here only if no other process does.

    Args:
        make_builder: () -> a TFDS builder (called again after waiting: a builder made
            before its dataset existed does not see it).
        prepare: (builder) -> None, which prepares it (default ``download_and_prepare``).
        name: what to call the dataset in messages (default the builder's name).
        wait_s: how long to wait for another preparer.
    """
    builder = make_builder()
    if builder.is_prepared():
        return builder
    prepare = prepare or (lambda b: b.download_and_prepare())
    version_dir = str(builder.data_dir)
    if "://" in version_dir and not version_dir.startswith("file://"):
        prepare(builder)
        return builder
    with _lock(f"{version_dir.rstrip('/')}.prepare.lock", name or builder.name, wait_s):
        builder = make_builder()  # Another process may have prepared it meanwhile.
        if not builder.is_prepared():
            prepare(builder)
    return builder
