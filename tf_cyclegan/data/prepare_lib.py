"""Preparing ``cycle_gan/<config>`` from a local archive or folder, with no network."""

import os
import shutil
import tarfile
import tempfile
import zipfile

import tensorflow_datasets as tfds

from tf_cyclegan.common import conventions, errors, writable
from tf_cyclegan.data import folders, sources

REQUIRED = conventions.SPLITS


def find_dataset_root(folder, max_depth=3):
    """The folder below ``folder`` holding trainA/ and trainB/ (``__MACOSX`` ignored)."""
    for root, dirs, _ in os.walk(folder):
        if root[len(folder) :].count(os.sep) > max_depth:
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if d != "__MACOSX" and not d.startswith("."))
        if all(split in dirs for split in conventions.TRAIN_SPLITS):
            return root
    return None


def _extract(archive, into):
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            z.extractall(into)
    elif tarfile.is_tarfile(archive):
        try:
            with tarfile.open(archive) as t:
                # "data": no links, devices or paths that leave ``into`` (untrusted archive).
                t.extractall(into, filter="data")
        except tarfile.FilterError as e:
            raise errors.ConfigError(
                f"--source={archive!r} holds an unsafe member ({e}); extract what you trust "
                "into a folder and pass that folder"
            ) from None
    else:
        raise errors.ConfigError(
            f"--source={archive!r} is neither a zip nor a tar archive nor a folder"
        )


def prepare(dataset, source, data_dir=None):
    """Writes the TFDS dataset ``dataset`` (cycle_gan/<config>) from ``source``.

    Args:
        dataset: e.g. "cycle_gan/horse2zebra".
        source: the dataset's zip or tar archive (any mirror: no checksum), or a folder
            holding <name>/trainA, trainB, testA, testB (or those four directly).
        data_dir: the TFDS data directory (TFDS's default if None).

    Returns:
        {"data_dir", "splits": {split: count}, "skipped": [(path, reason), ...]}.
    """
    name = sources.tfds_name(dataset)
    if not name.startswith("cycle_gan/"):
        raise errors.ConfigError(
            f"--dataset={dataset!r}: prepare builds cycle_gan/<config> datasets"
        )
    sources.get_builder_class_config(name)  # Validates the config name, listing valid ones.
    if not os.path.exists(source):
        raise errors.MissingError(f"--source={source!r} does not exist")
    if data_dir:
        writable.require_folder(data_dir, "data_dir")
    scratch = tempfile.mkdtemp(prefix="tf_cyclegan_prepare_")
    try:
        folder = source
        if os.path.isfile(source):
            _extract(source, scratch)
            folder = scratch
        root = find_dataset_root(folder)
        if root is None:
            raise errors.ConfigError(f"no folder with trainA/ and trainB/ found in {source}")
        missing = [s for s in REQUIRED if not os.path.isdir(os.path.join(root, s))]
        if missing:
            raise errors.ConfigError(
                f"{root} lacks {', '.join(missing)}/: cycle_gan datasets have all four splits "
                "(for a folder without test splits, train with --dataset=/path/to/folder)"
            )
        builder = folders.LocalCycleGAN(config=name.split("/", 1)[1], data_dir=data_dir)
        builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=root))
        splits = {s: builder.info.splits[s].num_examples for s in REQUIRED}
        return {"data_dir": builder.data_dir, "splits": splits, "skipped": builder.skipped}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
