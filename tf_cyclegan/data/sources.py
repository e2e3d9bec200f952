"""Which dataset ``--dataset`` names, and its prepared TFDS builder.

Four forms: ``synthetic`` (built in), ``cycle_gan/<config>`` (TFDS), ``tfds:<name>:<A>:<B>``
(two domains of any labelled TFDS dataset, ``labelled``) and a folder holding trainA/ and
trainB/ (``folders``).

Resolution never waits on the network when it cannot help: an unprepared dataset on a
machine that cannot reach its server fails in seconds with the commands that prepare it.
"""

import os

import tensorflow_datasets as tfds
from absl import logging

from tf_cyclegan.common import conventions, errors, reachability
from tf_cyclegan.data import (
    folders,
    labelled,
    prepare_once,
    synthetic,  # noqa: F401  (registers the synthetic_shapes builder)
)

BUILTIN = {"synthetic": "synthetic_shapes"}
CYCLE_GAN_HOST = "efrosgans.eecs.berkeley.edu"


def tfds_name(dataset):
    """Maps ``--dataset`` to a TFDS name: 'synthetic' or 'cycle_gan/<config>'."""
    if dataset in BUILTIN:
        return BUILTIN[dataset]
    if dataset.startswith("cycle_gan/"):
        return dataset
    if os.sep in dataset or dataset.startswith(("~", ".")):
        raise errors.MissingError(
            f"--dataset={dataset}: the folder does not exist (a dataset folder holds trainA/ "
            "and trainB/)"
        )
    raise errors.ConfigError(
        f"unknown dataset {dataset!r}; expected 'synthetic', 'cycle_gan/<config>' "
        "(e.g. cycle_gan/horse2zebra) or a folder holding trainA/ and trainB/"
    )


def get_builder_class_config(name):
    """Validates 'family/config' against the installed TFDS, listing the valid configs."""
    family, config_name = name.split("/", 1)
    configs = sorted(tfds.builder_cls(family).builder_configs)
    if config_name not in configs:
        valid = ", ".join(f"{family}/{c}" for c in configs)
        raise errors.ConfigError(f"unknown dataset {name!r}; expected one of: {valid}")
    return config_name


def _offline_recipe(dataset, data_dir):
    flag = f" --data_dir={data_dir}" if data_dir else ""
    archive = dataset.split("/", 1)[1] + ".zip"
    return (
        f"Get {archive} on a machine with network (or any mirror), then prepare it here:\n"
        f"  python -m tf_cyclegan.prepare --dataset={dataset} --source=/path/{archive}{flag}\n"
        f"  python -m tf_cyclegan.train --dataset={dataset}{flag}\n"
        "Or train on the built-in data with --dataset=synthetic."
    )


def get_builder(dataset, data_dir=None):
    """Returns a prepared TFDS builder for ``dataset``, preparing it when that is possible.

    Args:
        dataset: 'synthetic', 'cycle_gan/<config>', 'tfds:<name>:<A>:<B>', or a folder
            holding trainA/, trainB/ (and optionally testA/, testB/), prepared once into
            ``data_dir``.
        data_dir: the TFDS data directory, or None for TFDS's default.

    Raises:
        ValueError: the name or config is unknown, or a folder lacks a domain.
        DataUnavailableError: not prepared, and the download server is unreachable.
    """
    if dataset.startswith(labelled.PREFIX):
        return labelled.builder(dataset, data_dir)
    if os.path.isdir(dataset):
        config = folders.folder_config(dataset)

        def prepare(builder):
            builder.download_and_prepare()
            if builder.skipped:
                logging.warning(
                    "Skipped %d unreadable file(s) in %s", len(builder.skipped), dataset
                )

        return prepare_once.prepared(
            lambda: folders.CycleGANFolder(config=config, data_dir=data_dir), prepare, dataset
        )
    name = tfds_name(dataset)
    if "/" in name:
        get_builder_class_config(name)
    builder = tfds.builder(name, data_dir=data_dir)
    if builder.is_prepared():
        return builder
    if name.startswith("cycle_gan/") and not reachability.host_reachable(CYCLE_GAN_HOST):
        raise errors.DataUnavailableError(
            f"{dataset} is not prepared in {builder.data_dir} and {CYCLE_GAN_HOST} is "
            f"unreachable from this machine.\n{_offline_recipe(dataset, data_dir)}"
        )
    return prepare_once.prepared(lambda: tfds.builder(name, data_dir=data_dir), name=dataset)


def num_examples(builder, split, max_dataset_size=None):
    """Images in ``split``, capped at ``max_dataset_size``."""
    if split in builder.info.splits:
        n = builder.info.splits[split].num_examples
    else:  # Builders without recorded sizes (tfds.testing.mock_data): count.
        n = int(encoded(builder, split, None).reduce(0, lambda count, _: count + 1))
    return n if max_dataset_size is None else min(n, max_dataset_size)


def steps_per_epoch(builder, data_config, global_batch_size):
    """An epoch is max(|A|, |B|) images per domain, as in the official code, in full batches."""
    cap = data_config.max_dataset_size
    longest = max(num_examples(builder, s, cap) for s in conventions.TRAIN_SPLITS)
    if longest < global_batch_size:
        raise errors.ConfigError(
            f"the training splits hold {longest} images, fewer than the global batch of "
            f"{global_batch_size}; lower --batch_size"
        )
    return longest // global_batch_size


def encoded(builder, split, cap):
    """A split's images as encoded bytes (decoding happens after shuffling, in parallel)."""
    decoders = {"image": tfds.decode.SkipDecoding()}
    # No TFDS auto-cache: a capped or sampled read leaves it partial, and tf.data warns
    # about that in every run; --cache is the pipeline's own, complete cache.
    no_autocache = tfds.ReadConfig(try_autocache=False)
    ds = builder.as_dataset(
        split=split, shuffle_files=False, decoders=decoders, read_config=no_autocache
    )
    ds = ds.map(lambda ex: ex["image"])
    return ds if cap is None else ds.take(cap)
