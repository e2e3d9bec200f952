"""Replacing a directory so that a complete old or new tree is always in place.

A new tree is written into a staging directory beside the target, then swapped in:

- on Linux, ``renameat2(RENAME_EXCHANGE)`` swaps the two names in one atomic step;
- elsewhere the old tree is renamed aside, the new one renamed in, the old one removed. A
  crash between the two renames leaves the complete old tree aside, and ``recover``
  (called by the next run) puts it back.

Staging and aside names carry the host and process id, so a later run can tell what a
killed run left behind (``remove_stale``) from what a running one is writing.
"""

import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import socket
import tempfile

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _prefix(target, kind):
    return f".{os.path.basename(os.path.normpath(target))}.{kind}-"


def owner_tag():
    """``<host>-<pid>-``: names what this process writes, so a later run can tell it is dead."""
    return f"{socket.gethostname()}-{os.getpid()}-"


def make_staging(target):
    """A new, empty staging directory beside ``target`` (same filesystem, so renames work)."""
    parent = os.path.dirname(os.path.abspath(target))
    os.makedirs(parent, exist_ok=True)
    return tempfile.mkdtemp(prefix=_prefix(target, "staging") + owner_tag(), dir=parent)


def _process_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def left_by_dead_process(name, prefix):
    """True for ``<prefix><host>-<pid>...`` names of this host whose process is gone."""
    rest = name[len(prefix) :]
    host = socket.gethostname()
    if not rest.startswith(host + "-"):
        return False
    pid = re.match(r"\d*", rest[len(host) + 1 :]).group()
    return pid.isdigit() and not _process_alive(int(pid))


def left_by_dead_processes(target, prefix):
    """Paths beside ``target`` named ``<prefix><host>-<pid>...`` whose process (of this
    host) is gone: what a killed run left, never what a running one is writing."""
    parent = os.path.dirname(os.path.abspath(target))
    names = sorted(os.listdir(parent)) if os.path.isdir(parent) else []
    return [
        os.path.join(parent, name)
        for name in names
        if name.startswith(prefix) and left_by_dead_process(name, prefix)
    ]


def recover(target):
    """Finishes or undoes a replacement that a crash interrupted. Returns what it did."""
    done = []
    for path in left_by_dead_processes(target, _prefix(target, "previous")):
        if os.path.exists(target):  # Crashed after the new tree went in: drop the old one.
            shutil.rmtree(path)
            done.append(f"removed {path}")
        else:  # Crashed between the renames: the old tree goes back.
            os.rename(path, target)
            done.append(f"restored {target} from {path}")
    return done


def remove_stale(target):
    """Removes staging directories of ``target`` that killed processes left. Returns them."""
    removed = left_by_dead_processes(target, _prefix(target, "staging"))
    for path in removed:
        shutil.rmtree(path)
    return removed


def _exchange(a, b):
    """Atomically swaps two paths; False where the kernel or filesystem cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), b)


def replace(staging, target, exchange=True):
    """Puts the complete tree ``staging`` at ``target``; an old ``target`` is removed.

    At every instant ``target`` is the complete old tree or the complete new one, except
    in the fallback path, where a crash between two renames leaves the old tree aside for
    ``recover``. ``exchange=False`` forces the fallback (tests).
    """
    if not os.path.exists(target):
        os.rename(staging, target)
        return
    if exchange and _exchange(staging, target):
        shutil.rmtree(staging)  # It now holds the old tree.
        return
    aside = os.path.join(
        os.path.dirname(os.path.abspath(target)), _prefix(target, "previous") + owner_tag()
    )
    os.rename(target, aside)
    os.rename(staging, target)
    shutil.rmtree(aside)
