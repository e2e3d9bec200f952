"""Writing a file so that its name only ever holds a complete file.

Output goes to a partial file beside its target, ``.<name>.partial-<host>-<pid><ext>``
(the target's extension last: ffmpeg and Pillow choose the format from it), renamed over the
target once complete. An exception, Ctrl-C or SIGTERM removes the partial file; what a
``kill -9`` leaves is removed by the next write of the same target (``remove_stale``), while
the partial files of live processes are left alone.
"""

import contextlib
import os

from tf_cyclegan.common import atomic_dir


def _prefix(target):
    return f".{os.path.basename(target)}.partial-"


def partial_path(target):
    """Where this process writes ``target`` before it is complete."""
    ext = os.path.splitext(target)[1]
    name = _prefix(target) + atomic_dir.owner_tag().rstrip("-") + ext
    return os.path.join(os.path.dirname(target), name)


def remove_stale(target):
    """Removes the partial files of ``target`` that dead processes of this host left.

    Returns:
        The removed paths.
    """
    removed = atomic_dir.left_by_dead_processes(target, _prefix(target))
    for path in removed:
        os.remove(path)
    return removed


@contextlib.contextmanager
def replacing(target):
    """Yields the partial path to write; on success it replaces ``target`` in one rename.

    Any exception (KeyboardInterrupt and SIGTERM's included) removes the partial file and
    leaves ``target`` as it was.
    """
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    remove_stale(target)
    partial = partial_path(target)
    try:
        yield partial
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
