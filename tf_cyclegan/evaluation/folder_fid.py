"""FID and KID between two image folders (or saved statistics), as ``python -m pytorch_fid``.

pytorch-fid's protocol, so the figures compare: every image read as RGB (its stored
orientation, EXIF ignored), scaled to [0, 1], resized to 299x299 bilinearly without
antialiasing, scaled to [-1, 1], fed to the feature network; statistics in float64.
"""

import dataclasses
import os
import sys

import numpy as np
import tensorflow as tf
import tqdm

from tf_cyclegan.common import errors
from tf_cyclegan.data import image_files
from tf_cyclegan.evaluation import fid, inception


@dataclasses.dataclass(frozen=True)
class Features:
    """What one side of the comparison gives: features (folders) or only statistics (.npz)."""

    mean: np.ndarray  # float64 [d]
    covariance: np.ndarray  # float64 [d, d]
    features: np.ndarray | None  # float64 [n, d], None for saved statistics
    count: int | None


def _read(path):
    try:
        return image_files.read_image(path, upright=False).astype(np.float32) / 255.0
    except (OSError, ValueError, SyntaxError) as e:
        raise errors.ConfigError(
            f"{path} is not a readable image ({type(e).__name__}: {e}); remove it or fix it"
        ) from None


def folder_features(network, folder, batch_size=25, progress=False):
    """Features of every image below ``folder``; images may differ in size.

    Raises:
        MissingError: no such folder; ConfigError: no images, or an unreadable one.
    """
    if not os.path.isdir(folder):
        raise errors.MissingError(f"{folder} is not a folder of images")
    paths, _ = image_files.list_files(folder)
    if len(paths) < 2:
        raise errors.ConfigError(f"{folder} holds {len(paths)} image(s); FID needs at least 2")
    chunks, batch = [], []
    bar = tqdm.tqdm(paths, unit="img", file=sys.stdout, disable=None if progress else True)
    for i, path in enumerate(bar):
        # Each image is resized on its own (sizes differ), then fed in batches.
        batch.append(inception.to_inception_input(_read(path)[None] * 2 - 1)[0])
        if len(batch) == batch_size or i == len(paths) - 1:
            chunks.append(inception.features(network, tf.stack(batch), batch_size, resized=True))
            batch = []
    values = np.concatenate(chunks).astype(np.float64)
    return Features(*fid.statistics(values), values, len(values))


def saved_statistics(path):
    """pytorch-fid's ``.npz`` statistics (``mu``, ``sigma``), as --save-stats writes them."""
    try:
        with np.load(path, allow_pickle=False) as data:
            mean, cov = np.asarray(data["mu"], np.float64), np.asarray(data["sigma"], np.float64)
    except (OSError, ValueError, KeyError) as e:
        raise errors.ConfigError(f"{path} holds no FID statistics (mu, sigma): {e}") from None
    if mean.ndim != 1 or cov.shape != (len(mean), len(mean)):
        raise errors.ConfigError(f"{path}: mu {mean.shape} and sigma {cov.shape} do not match")
    return Features(mean, cov, None, None)


def load_side(network, path, progress=False):
    if path.lower().endswith(".npz") and os.path.isfile(path):
        return saved_statistics(path)
    return folder_features(network, path, progress=progress)


def compare(first, second):
    """{"fid": float, and with features on both sides "kid", "kid_std"}."""
    if len(first.mean) != len(second.mean):
        raise errors.ConfigError(
            f"the two sides have {len(first.mean)} and {len(second.mean)} features: "
            "statistics from another network"
        )
    distance = fid.frechet_distance(first.mean, first.covariance, second.mean, second.covariance)
    results = {"fid": distance}
    if first.features is not None and second.features is not None:
        results["kid"], results["kid_std"] = fid.kid(first.features, second.features)
    return results
