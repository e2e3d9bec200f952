"""Whether a command can write where it was told to, checked before it starts: one line, not
a traceback from deep inside TensorFlow, for ``/proc/...``, a read-only mount, or a path
under a file. Creates nothing that stays."""

import os
import tempfile

from tf_cyclegan.common import errors


def require_folder(path, flag):
    """Raises ConfigError unless ``path`` is, or can be created as, a writable folder.

    Non-local paths (``gs://``, ``ram://``) are left to TensorFlow's filesystems.

    Args:
        path: the folder a command writes (it need not exist yet).
        flag: the option that named it, for the message ("model_dir").
    """
    if "://" in path and not path.startswith("file://"):
        return
    path = os.path.abspath(path.removeprefix("file://"))
    if os.path.exists(path) and not os.path.isdir(path):
        raise errors.ConfigError(f"--{flag}={path} is a file; name a folder")
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise errors.ConfigError(
            f"--{flag}={path} cannot be created: {existing} is a file; choose another path"
        )
    try:  # The only reliable test (root passes access checks; /proc refuses new folders).
        os.rmdir(tempfile.mkdtemp(prefix=".writable-", dir=existing))
    except OSError as e:
        raise errors.ConfigError(
            f"--{flag}={path} cannot be written ({e.strerror} in {existing}); choose a "
            "folder you can write"
        ) from None
