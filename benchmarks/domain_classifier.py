r"""Does a translation land in its target domain? A simple classifier decides.

  python benchmarks/domain_classifier.py --model_dir=runs/synthetic

Fits logistic regression on the real training images of the run's two domains (pixels
area-downsampled to 16x16), then prints its accuracy on the real test images and, per
direction, the fraction of translated test images it assigns to the target domain next to
the fraction of untranslated ones (for ``tfds:mnist:0:1`` the domains are two digit classes).
"""

import numpy as np
from absl import app, flags
from common import cpu_description

_MODEL_DIR = flags.DEFINE_string("model_dir", None, "A run directory.", required=True)
_SIZE = flags.DEFINE_integer("size", 16, "Side of the downsampled images the classifier sees.")
_STEPS = flags.DEFINE_integer("steps", 500, "Full-batch gradient steps of the fit.")


def _features(images, size):
    import tensorflow as tf

    small = tf.image.resize(images, [size, size], method="area")
    return tf.reshape(small, [images.shape[0], -1])


def _fit(features, labels, steps):
    """Logistic regression by full-batch Adam: (weights, bias)."""
    import tensorflow as tf

    mean = tf.reduce_mean(features, 0)
    weights = tf.Variable(tf.zeros([features.shape[1], 1]))
    bias = tf.Variable(0.0)
    adam = tf.keras.optimizers.Adam(0.01)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            logits = tf.matmul(features - mean, weights)[:, 0] + bias
            loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels, logits))
        adam.apply_gradients(zip(tape.gradient(loss, [weights, bias]), [weights, bias]))
    return lambda x: (tf.matmul(x - mean, weights)[:, 0] + bias).numpy() > 0


def main(argv):
    del argv
    from tf_cyclegan.common import conventions
    from tf_cyclegan.data import pipeline, sources
    from tf_cyclegan.networks import restore

    print(cpu_description())
    config, generators, checkpoint = restore.load_generators(_MODEL_DIR.value)
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    crop = config.data.crop_size

    def images(split, domain):
        count = sources.num_examples(builder, split)
        return pipeline.sample_images(builder, split, count, crop, config.model.channels(domain))

    train_a, train_b = images("trainA", "a"), images("trainB", "b")
    features = np.concatenate([_features(train_a, _SIZE.value), _features(train_b, _SIZE.value)])
    labels = np.concatenate([np.zeros(len(train_a)), np.ones(len(train_b))]).astype(np.float32)
    is_b = _fit(features, labels, _STEPS.value)
    test = {"a": images("testA", "a"), "b": images("testB", "b")}
    right = [is_b(_features(test["a"], _SIZE.value)) == 0, is_b(_features(test["b"], _SIZE.value))]
    accuracy = np.mean(np.concatenate(right))
    print(f"{checkpoint}: classifier accuracy on the real test images {accuracy:.3f}")
    for direction, generator in generators.items():
        source, target = direction[0], direction[-1]
        translated = generator(test[source], training=False)
        wanted = 1 if target == "b" else 0
        hit = np.mean(is_b(_features(translated, _SIZE.value)) == wanted)
        stay = np.mean(is_b(_features(test[source], _SIZE.value)) == wanted)
        split = conventions.SOURCE_TEST[direction]
        print(
            f"  {direction}: {hit:.3f} of the translated {split} images are judged domain "
            f"{target.upper()} (untranslated: {stay:.3f})"
        )


if __name__ == "__main__":
    app.run(main)
