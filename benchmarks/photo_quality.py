"""What ``real_photos.py`` measures of a run's generators on real test photos, at one size.

FID and KID with the standard network (translated test images against the target domain's
real test images, all of them: the published protocol), beside the untranslated baseline
(source test against target test) and the real-vs-real floor (as many target training images
as the target has test images, against the target test images); and the share of
translations that an independent domain classifier puts in the target domain.
"""

import dataclasses

import numpy as np

from tf_cyclegan.common import conventions
from tf_cyclegan.evaluation import evaluate_lib, fid, inception

TABLE_HEADER = (
    "| checkpoint | size | direction | FID | KID | untranslated FID | real-vs-real FID "
    "| in target domain |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
)


@dataclasses.dataclass
class RealImages:
    """The test splits of a dataset at one size, their features, and the floor's features.

    Attributes:
        size: int, the side images are resized to (bicubic, as training's evaluation).
        test: {"testA"|"testB": float32 [n, size, size, 3] in [-1, 1]}.
        features: {split: float64 [n, 2048]} for testA, testB and the floor's trainA/trainB.
    """

    size: int
    test: dict
    features: dict


def real_images_of_split(builder, split, size, max_images=None):
    """float32 [n, size, size, 3] in [-1, 1]: the first ``max_images`` (all) of ``split``."""
    return evaluate_lib.split_images(builder, split, size, 3, max_images).numpy()


def real_images(builder, network, size):
    """Reads the test splits and floor images of ``builder`` at ``size`` and their features."""
    test = {s: real_images_of_split(builder, s, size) for s in conventions.TEST_SPLITS}
    features = {s: inception.features(network, v) for s, v in test.items()}
    for direction in conventions.DIRECTIONS:
        target_test, target_train = conventions.TARGET_TEST[direction], _train_of(direction)
        floor = real_images_of_split(builder, target_train, size, len(test[target_test]))
        features[target_train] = inception.features(network, floor)
    return RealImages(size, test, features)


def _train_of(direction):
    """The target domain's training split of ``direction``."""
    return conventions.TARGET_TEST[direction].replace("test", "train")


def judge(builder, network, size):
    """A ``DomainClassifier`` fitted on every training photo of ``builder`` at ``size``."""
    features = [
        inception.features(network, real_images_of_split(builder, split, size))
        for split in conventions.TRAIN_SPLITS
    ]
    return DomainClassifier(*features)


def inference_calls(generators):
    """{direction: images -> translations} of keras generators, in inference mode."""
    return {d: (lambda x, g=g: g(x, training=False)) for d, g in generators.items()}


class DomainClassifier:
    """Logistic regression on the standard network's features: features -> P(domain B).

    Fitted by full-batch Adam on the features of every training image of both domains (an
    independent judge: it never sees a translation).
    """

    def __init__(self, features_a, features_b, steps=300):
        import tensorflow as tf

        x = np.concatenate([features_a, features_b]).astype(np.float32)
        y = np.concatenate([np.zeros(len(features_a)), np.ones(len(features_b))])
        self._mean, self._std = x.mean(0), x.std(0) + 1e-6
        self._w, self._b = tf.Variable(tf.zeros([x.shape[1], 1])), tf.Variable(0.0)
        adam = tf.keras.optimizers.Adam(0.01)
        x, y = (x - self._mean) / self._std, y.astype(np.float32)
        for _ in range(steps):
            with tf.GradientTape() as tape:
                logits = tf.matmul(x, self._w)[:, 0] + self._b
                loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, logits))
                loss += 1e-3 * tf.reduce_sum(self._w * self._w)
            variables = [self._w, self._b]
            adam.apply_gradients(zip(tape.gradient(loss, variables), variables))

    def is_b(self, features):
        """bool [n]: whether each image's features look like domain B."""
        x = (features.astype(np.float32) - self._mean) / self._std
        return (x @ self._w.numpy())[:, 0] + float(self._b.numpy()) > 0

    def accuracy(self, real):
        """The share of real test photos put in their own domain."""
        return float(np.mean(np.concatenate([~self.is_b(real["testA"]), self.is_b(real["testB"])])))


def translation_rows(generators, real, network, classifier):
    """One row per direction that ``generators`` holds, translating ``real``'s test images.

    Args:
        generators: {direction: callable float32 [b, s, s, 3] -> same, in [-1, 1]}.
        real: ``RealImages``.
        network: the standard FID network (``inception.load``).
        classifier: a ``DomainClassifier``.

    Returns:
        ({direction: {"fid", "kid", "untranslated_fid", "floor_fid", "share"}},
         {direction: float32 translations}).
    """
    rows, translations = {}, {}
    for direction, generator in generators.items():
        source = conventions.SOURCE_TEST[direction]
        fake = evaluate_lib.batched(generator, real.test[source]).numpy()
        rows[direction] = score(fake, direction, real, network, classifier)
        translations[direction] = fake
    return rows, translations


def score(fake, direction, real, network, classifier):
    """The figures of translations ``fake`` (float32 [n, s, s, 3]) of ``direction``."""
    source = conventions.SOURCE_TEST[direction]
    target = conventions.TARGET_TEST[direction]
    fake_features = inception.features(network, fake)
    target_features = real.features[target]
    kid_mean, _ = fid.kid(fake_features, target_features)
    return {
        "fid": fid.fid(fake_features, target_features),
        "kid": kid_mean,
        "untranslated_fid": fid.fid(real.features[source], target_features),
        "floor_fid": fid.fid(real.features[_train_of(direction)], target_features),
        "share": float(np.mean(classifier.is_b(fake_features) == (direction == "a2b"))),
    }


def table_row(label, size, direction, row):
    return (
        f"| {label} | {size} | {direction} | {row['fid']:.1f} | {row['kid']:.4f} | "
        f"{row['untranslated_fid']:.1f} | {row['floor_fid']:.1f} | {row['share']:.2f} |"
    )
