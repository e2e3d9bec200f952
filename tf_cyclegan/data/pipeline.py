"""The input pipeline: unpaired A/B batches from a prepared builder, and test images.

Order and augmentation are pure functions of (seed, epoch, position), so a resumed run
reads exactly the batches an uninterrupted run would have read.
"""

import tensorflow as tf

from tf_cyclegan.common import conventions
from tf_cyclegan.common.config import PREPROCESS_MODES
from tf_cyclegan.data.sources import encoded, num_examples, steps_per_epoch


def _resize(x, height, width):
    return tf.clip_by_value(tf.image.resize(x, [height, width], method="bicubic"), 0.0, 255.0)


def _scale_width(x, width, min_height):
    """Width to ``width``, height keeping the aspect ratio but at least ``min_height``."""
    shape = tf.cast(tf.shape(x)[:2], tf.float32)
    height = tf.maximum(tf.round(width * shape[0] / shape[1]), float(min_height))
    return _resize(x, tf.cast(height, tf.int32), width)


def _at_least(x, size):
    """Upscales (keeping the aspect ratio) so both sides are at least ``size``."""
    shape = tf.cast(tf.shape(x)[:2], tf.float32)
    scale = tf.maximum(1.0, size / tf.reduce_min(shape))
    new = tf.cast(tf.math.ceil(shape * scale), tf.int32)
    return tf.cond(scale > 1.0, lambda: _resize(x, new[0], new[1]), lambda: x)


def _round_to_multiple(x, multiple=4):
    shape = tf.shape(x)[:2]
    new = tf.maximum((shape + multiple // 2) // multiple * multiple, multiple)
    return tf.cond(tf.reduce_all(new == shape), lambda: x, lambda: _resize(x, new[0], new[1]))


def preprocess(image, data_config, seed, resized=False):
    """Training augmentation, as the official ``--preprocess`` modes (bicubic resizing).

    - resize_and_crop: resize to load_size x load_size, random crop_size crop.
    - crop: random crop_size crop (smaller images are upscaled first).
    - scale_width: width to load_size, aspect kept (height >= crop_size); varying size.
    - scale_width_and_crop: scale_width, then a random crop_size crop.
    - none: sides rounded to multiples of 4; varying size.
    Then a random horizontal flip unless ``flip`` is off.

    Args:
        image: uint8 [height, width, channels] (3, or 1 for grayscale; static).
        data_config: a ``DataConfig``.
        seed: int32 [2], seeds the stateless crop and flip.
        resized: the image is already resized to load_size (cached resize_and_crop).

    Returns:
        float32 [crop_size, crop_size, channels] in [-1, 1] (other sizes for varying-size
        modes).
    """
    mode, load, crop = data_config.preprocess, data_config.load_size, data_config.crop_size
    if mode not in PREPROCESS_MODES:
        raise ValueError(f"unknown preprocess {mode!r}; expected one of {PREPROCESS_MODES}")
    x = tf.cast(image, tf.float32)
    if mode == "resize_and_crop" and not resized:
        x = _resize(x, load, load)
    elif mode.startswith("scale_width"):
        x = _scale_width(x, load, crop)
    if mode.endswith("crop"):
        channels = image.shape[-1]
        x = tf.image.stateless_random_crop(_at_least(x, crop), [crop, crop, channels], seed=seed)
    else:
        x = _round_to_multiple(x)
    if data_config.flip:
        x = tf.image.stateless_random_flip_left_right(x, seed=seed + 1)
    return conventions.to_float(x)


def with_channels(image, channels):
    """uint8 [h, w, 1 or 3] -> [h, w, channels]: luminance for gray, replicated for RGB."""
    if image.shape[-1] == channels:
        return image
    if channels == 1:
        return tf.image.rgb_to_grayscale(image)
    return tf.image.grayscale_to_rgb(image)


def to_model_range(image, size, channels=3):
    """uint8 [h, w, 1 or 3] -> float32 [size, size, channels] in [-1, 1], bicubic resize, no
    augmentation."""
    x = tf.cast(with_channels(image, channels), tf.float32)
    x = tf.clip_by_value(tf.image.resize(x, [size, size], method="bicubic"), 0.0, 255.0)
    return conventions.to_float(x)


def decode(encoded, channels=3):
    """Encoded JPEG/PNG/BMP/GIF bytes -> uint8 [height, width, channels] (3 or 1)."""
    return tf.io.decode_image(encoded, channels=channels, expand_animations=False)


def epoch_order(n, length, seed, epoch):
    """Indices of one epoch: fresh permutations of range(n), concatenated, cut to ``length``.

    A pure function of (seed, epoch), so resuming needs no saved iterator state.

    Returns:
        int32 [length], each index in [0, n).
    """
    passes = -(-length // n)
    key = tf.stack([tf.cast(seed, tf.int64), tf.cast(epoch, tf.int64)])
    noise = tf.random.stateless_uniform([passes, n], seed=key)
    return tf.reshape(tf.argsort(noise, axis=1), [-1])[:length]


def train_dataset(
    builder, data_config, seed, global_batch_size, start_step=0, context=None, channels=(3, 3)
):
    """Unpaired training batches, resuming at ``start_step``.

    Each epoch is max(|A|, |B|) images per domain: the longer domain once in a fresh random
    order, the shorter one drawn again (fresh permutations) to the same length. The encoded
    bytes stay in memory after the first pass; decoding and augmentation run afresh every
    epoch, in parallel.

    Args:
        builder: a prepared TFDS builder with trainA and trainB splits.
        data_config: a ``DataConfig``.
        seed: int.
        global_batch_size: images per domain per step, all replicas together.
        start_step: the first step to produce; earlier ones are skipped before decoding.
        context: a ``tf.distribute.InputContext`` or None.
        channels: (domain A's, domain B's) image channels, 3 or 1.

    Returns:
        A dataset of {"a": float32 [batch, crop, crop, channels A], "b": same with channels
        B} in [-1, 1], with the per-replica batch.
    """
    context = context or tf.distribute.InputContext()
    cap = data_config.max_dataset_size
    spe = steps_per_epoch(builder, data_config, global_batch_size)
    per_epoch = spe * global_batch_size
    # --cache keeps images decoded and resized (the deterministic part) in memory.
    resized = data_config.cache and data_config.preprocess == "resize_and_crop"
    load = data_config.load_size
    domains = []
    for split, ch in zip(conventions.TRAIN_SPLITS, channels):
        n = num_examples(builder, split, cap)
        ds = encoded(builder, split, cap)
        if resized:
            ds = ds.map(
                lambda e, ch=ch: _decode_resized(e, load, ch), num_parallel_calls=tf.data.AUTOTUNE
            )
        # batch(n + 1) reads to the end, so the cache is complete after one pull.
        domains.append((ds.cache().batch(n + 1), n))

    start_epoch, skip_steps = divmod(start_step, spe)
    per_pipeline = global_batch_size // context.num_input_pipelines
    per_replica = context.get_per_replica_batch_size(global_batch_size)

    def epoch(e):
        ordered = []
        for offset, (whole, n) in enumerate(domains):
            order = epoch_order(n, per_epoch, seed * 2 + offset, e)
            ordered.append(whole.flat_map(lambda x, o=order: _slices(tf.gather(x, o))))
        ds = tf.data.Dataset.zip((tf.data.Dataset.range(per_epoch), *ordered))
        ds = ds.shard(context.num_input_pipelines, context.input_pipeline_id)
        skip = tf.where(e == start_epoch, tf.cast(skip_steps * per_pipeline, tf.int64), 0)
        return ds.skip(skip).map(lambda i, a, b: (e, i, a, b))

    def augment(e, i, a, b):
        key = tf.cast(tf.stack([seed * 1_000_003 + e, 4 * i]), tf.int32)
        if not resized:
            a, b = decode(a, channels[0]), decode(b, channels[1])
        return {
            "a": preprocess(a, data_config, key, resized),
            "b": preprocess(b, data_config, key + [0, 2], resized),
        }

    ds = tf.data.Dataset.range(start_epoch, 2**62).flat_map(epoch)
    ds = ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(per_replica, drop_remainder=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def _decode_resized(encoded, size, channels):
    """Encoded bytes -> uint8 [size, size, channels], the deterministic part of
    resize_and_crop."""
    image = tf.cast(decode(encoded, channels), tf.float32)
    return tf.cast(_resize(image, size, size), tf.uint8)


def _slices(x):
    return tf.data.Dataset.from_tensor_slices(x)


def sample_images(builder, split, count, size, channels=3):
    """The first ``count`` images of ``split``: float32 [count, size, size, channels] in
    [-1, 1]."""
    ds = encoded(builder, split, count).map(
        lambda x: to_model_range(decode(x, channels), size, channels)
    )
    return tf.concat(list(ds.batch(count).take(1)), axis=0)


def paired_test_set(builder, split, size, channels=(3, 3)):
    """Test images with their ground-truth translations, when the dataset has them.

    Args:
        channels: (the split's domain's, the other domain's) channels.

    Returns:
        (images, truths) float32 [n, size, size, channels] in [-1, 1], or None when
        ``split`` has no ``translation`` feature (every real dataset).
    """
    if "translation" not in builder.info.features:
        return None
    ds = builder.as_dataset(split=split, shuffle_files=False)
    ds = ds.map(
        lambda ex: (
            to_model_range(ex["image"], size, channels[0]),
            to_model_range(ex["translation"], size, channels[1]),
        )
    )
    images, truths = zip(*ds.batch(256))
    return tf.concat(images, 0), tf.concat(truths, 0)
