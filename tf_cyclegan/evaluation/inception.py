"""InceptionV3 pool features for FID and KID (Keras applications' ImageNet weights)."""

import os

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import errors, reachability

WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
WEIGHTS_HOST = "storage.googleapis.com"


class InceptionUnavailableError(errors.UserError, RuntimeError):
    """No Inception weights: not given, not cached, and not downloadable from here."""


def _cached_weights():
    keras_home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
    path = os.path.join(keras_home, "models", WEIGHTS_FILE)
    return path if os.path.exists(path) else None


def load(weights_path=None):
    """InceptionV3 without its classifier, average-pooled: 2048 features per image.

    Args:
        weights_path: a local ``inception_v3_..._notop.h5``; else Keras's cache, else a
            download (checked for reachability first, so offline runs fail in seconds).
    """
    import keras

    if weights_path is not None and not os.path.exists(weights_path):
        raise errors.MissingError(f"--inception_weights={weights_path!r} does not exist")
    weights = weights_path or _cached_weights()
    if weights is None:
        if not reachability.host_reachable(WEIGHTS_HOST):
            raise InceptionUnavailableError(
                f"FID/KID need InceptionV3 weights and {WEIGHTS_HOST} is unreachable. Download "
                f"{WEIGHTS_FILE} (Keras applications) elsewhere and pass "
                "--inception_weights=PATH, or evaluate without FID/KID (--nofid)."
            )
        weights = "imagenet"
    return keras.applications.InceptionV3(
        include_top=False, weights=weights, pooling="avg", input_shape=(299, 299, 3)
    )


def features(model, images, batch_size=25):
    """float32 [n, h, w, 3 or 1] in [-1, 1] -> float64 [n, 2048] pool features.

    Images are resized to 299x299 bilinearly, as pytorch-fid does; Inception's own
    preprocessing maps pixels to [-1, 1], which is already our range. Grayscale images are
    replicated to three channels, as FID on grayscale datasets (MNIST) is usually computed.
    """
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    run = tf.function(lambda x: model(tf.image.resize(x, [299, 299], "bilinear"), training=False))
    chunks = [run(images[i : i + batch_size]).numpy() for i in range(0, len(images), batch_size)]
    return np.concatenate(chunks).astype(np.float64)
