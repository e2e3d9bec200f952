"""TFDS builders that prepare CycleGAN data from local files, with no network.

- ``LocalCycleGAN`` writes the genuine ``cycle_gan/<config>`` dataset (same name, version
  and features as TFDS's builder) from a local archive's extracted folder, so
  ``--dataset=cycle_gan/<config>`` then trains offline. TFDS's own path checks archive
  checksums and cannot use re-zipped copies or folders.
- ``CycleGANFolder`` prepares a user's ``root/{trainA,trainB}[,testA,testB]`` tree.

Both skip unreadable files by name, convert every image mode to RGB, downscale huge images,
and refuse an empty domain with an error naming its folder.
"""

import hashlib
import os

import tensorflow_datasets as tfds
from absl import logging
from tensorflow_datasets.image_classification import cycle_gan

from tf_cyclegan.common import conventions, errors
from tf_cyclegan.data import image_files

SPLITS = conventions.SPLITS


def domain_features(channels=3):
    """What a two-domain dataset holds per example: the image and its domain, "A" or "B"."""
    return tfds.features.FeaturesDict(
        {
            "image": tfds.features.Image(shape=(None, None, channels)),
            "label": tfds.features.ClassLabel(names=["A", "B"]),
        }
    )


def _examples(folder, split, label, skipped, keep=None):
    """Yields TFDS examples for the images in ``folder``; raises if none are readable."""
    count = 0
    for index, (path, image) in enumerate(image_files.iter_checked(folder, split, skipped)):
        if keep is not None and not keep(index):
            continue
        count += 1
        key = os.path.relpath(path, folder)
        yield key, {"image": image, "label": label}
    if count == 0:
        raise errors.ConfigError(
            f"no readable images in {folder} for split {split}: every domain needs at least "
            f"one image file ({', '.join(image_files.IMAGE_EXTENSIONS)})"
        )


class LocalCycleGAN(cycle_gan.CycleGAN, skip_registration=True):
    """TFDS's cycle_gan builder, reading an extracted dataset folder (the manual dir)."""

    name = "cycle_gan"
    MANUAL_DOWNLOAD_INSTRUCTIONS = "python -m tf_cyclegan.prepare --source=ARCHIVE_OR_FOLDER"

    def _split_generators(self, dl_manager):
        root = dl_manager.manual_dir
        self.skipped = []
        return [
            tfds.core.SplitGenerator(
                name=split,
                gen_kwargs={"folder": os.path.join(root, split), "split": split},
            )
            for split in SPLITS
        ]

    def _generate_examples(self, folder, split):
        yield from _examples(folder, split, conventions.SPLIT_DOMAIN[split].upper(), self.skipped)


class FolderConfig(tfds.core.BuilderConfig):
    """One user folder; the config name is derived from its path and contents."""

    def __init__(self, *, root, holdout, **kwargs):
        super().__init__(**kwargs)
        self.root = root
        self.holdout = holdout


def folder_config(root):
    """The config for ``root``: a new name whenever the files below it change."""
    root = os.path.abspath(root)
    for split in conventions.TRAIN_SPLITS:
        if not os.path.isdir(os.path.join(root, split)):
            raise errors.ConfigError(
                f"{root} has no {split}/ folder: a dataset folder holds trainA/ and trainB/ "
                "(and optionally testA/, testB/) with the images of each domain"
            )
    digest = hashlib.sha1(root.encode())
    for split in SPLITS:
        paths, _ = image_files.list_files(os.path.join(root, split))
        for path in paths:
            try:
                stat = os.stat(path)
            except OSError:  # A broken symlink: preparation skips it by name.
                digest.update(f"{path}:unreadable".encode())
                continue
            digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    missing = [s for s in conventions.TEST_SPLITS if not os.path.isdir(os.path.join(root, s))]
    name = f"{os.path.basename(root.rstrip('/'))[:40]}_{digest.hexdigest()[:12]}"
    return FolderConfig(name=name, root=root, holdout=tuple(missing), version="1.0.0")


class CycleGANFolder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """A user's two folders of images, prepared once into TFDS format.

    When testA/ or testB/ is missing, the first few training images of that domain
    (10%, at least 1, at most 8) are held out as its test split.
    """

    name = "cycle_gan_folder"
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"CycleGAN images from {self.builder_config.root}",
            features=domain_features(),
            supervised_keys=("image", "label"),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        root, holdout = self.builder_config.root, self.builder_config.holdout
        self.skipped = []
        generators = {}
        for domain in "AB":
            train = os.path.join(root, f"train{domain}")
            if f"test{domain}" in holdout:
                count = len(image_files.list_files(train)[0])
                n = min(8, max(1, count // 10))
                logging.warning(
                    "%s has no test%s/: holding out the first %d image(s) of train%s as test%s",
                    root,
                    domain,
                    n,
                    domain,
                    domain,
                )
                generators[f"train{domain}"] = self._generate_examples(
                    train, f"train{domain}", domain, lambda i, n=n, c=count: i >= n or c <= n
                )
                generators[f"test{domain}"] = self._generate_examples(
                    train, f"test{domain}", domain, lambda i, n=n: i < n
                )
            else:
                generators[f"train{domain}"] = self._generate_examples(
                    train, f"train{domain}", domain
                )
                generators[f"test{domain}"] = self._generate_examples(
                    os.path.join(root, f"test{domain}"), f"test{domain}", domain
                )
        return generators

    def _generate_examples(self, folder, split, label, keep=None):
        yield from _examples(folder, split, label, self.skipped, keep)
