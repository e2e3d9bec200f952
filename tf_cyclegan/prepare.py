r"""Prepares a TFDS cycle_gan dataset from a local archive or folder, offline.

  python -m tf_cyclegan.prepare --dataset=cycle_gan/horse2zebra --source=~/horse2zebra.zip
  python -m tf_cyclegan.train --dataset=cycle_gan/horse2zebra

Any copy works (the official zip, a Kaggle re-zip, an extracted folder): no checksum is
checked. Stray files (.DS_Store, __MACOSX/) are ignored; unreadable images are skipped and
listed.

Documentation: docs/data.md
"""

import os
import sys

import tensorflow_datasets as tfds
from absl import flags

from tf_cyclegan.common import cli, shared_flags
from tf_cyclegan.data import prepare_lib

_DATASET = shared_flags.define_dataset("cycle_gan/<config>", required=True)
_SOURCE = flags.DEFINE_string("source", None, "Archive (.zip, .tar*) or folder.", required=True)
_DATA_DIR = shared_flags.define_data_dir()

flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    del argv  # cli.run refuses positional arguments.
    if sys.stdout.isatty():  # Preparing is what this command does: TFDS' bars show it.
        tfds.enable_progress_bar()
    result = prepare_lib.prepare(_DATASET.value, os.path.expanduser(_SOURCE.value), _DATA_DIR.value)
    counts = ", ".join(f"{k} {v}" for k, v in result["splits"].items())
    print(f"Prepared {_DATASET.value} in {result['data_dir']}: {counts}.")
    if result["skipped"]:
        print(f"Skipped {len(result['skipped'])} unreadable file(s):")
        for path, reason in result["skipped"]:
            print(f"  {path}: {reason}")
    print(f"Train with: python -m tf_cyclegan.train --dataset={_DATASET.value}", end="")
    print(f" --data_dir={_DATA_DIR.value}" if _DATA_DIR.value else "")


if __name__ == "__main__":
    cli.run(main)
