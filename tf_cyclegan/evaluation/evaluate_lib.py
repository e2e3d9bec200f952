"""Translation quality of a run: FID/KID, cycle error, and ground truth where it exists."""

import os
import sys

import numpy as np
import tensorflow as tf
import tqdm

from tf_cyclegan.common import atomic_file, conventions, interrupts, run_dir
from tf_cyclegan.data import pipeline, sources
from tf_cyclegan.evaluation import fid, inception, metrics

DIRECTIONS = tuple(
    (d, conventions.SOURCE_TEST[d], conventions.TARGET_TEST[d]) for d in conventions.DIRECTIONS
)


def split_images(builder, split, size, channels, max_images=None):
    """The first ``max_images`` (all by default) images of ``split``, float32 [n, size, size,
    channels] in [-1, 1]."""
    n = sources.num_examples(builder, split)
    return pipeline.sample_images(builder, split, min(n, max_images or n), size, channels)


def batched(fn, images, batch_size=8):
    """``fn`` over ``images`` in batches of ``batch_size``, the last one padded (so a traced
    ``fn`` sees one shape however many images there are).

    Args:
        fn: callable, float32 [batch_size, h, w, c] -> [batch_size, ...]; must not mix
            images (the padding would change the others' results).
        images: float32 [n, h, w, c].

    Returns:
        float32 [n, ...], ``fn``'s outputs concatenated.
    """
    parts = []
    fn = interrupts.responsive(fn)  # A batch takes seconds: signals act at once.
    for i in range(0, len(images), batch_size):
        batch = images[i : i + batch_size]
        missing = batch_size - len(batch)
        if missing:
            batch = tf.concat([batch, tf.zeros([missing, *batch.shape[1:]], batch.dtype)], 0)
        parts.append(fn(batch)[: batch_size - missing])
    return tf.concat(parts, axis=0)


def _reference_features(network, builder, split, size, channels, max_images, cache_dir):
    """Features of the real images of ``split``; read from ``cache_dir`` when computed before.

    The file name holds everything the features depend on (split, size, channels, count,
    network and weights file), so a changed setting never reads stale features.
    """
    n = min(sources.num_examples(builder, split), max_images or sys.maxsize)
    weights = os.path.basename(network.source)
    size_tag = os.path.getsize(network.source) if os.path.isfile(network.source) else 0
    name = f"{split}_{size}px_{channels}ch_{n}_{network.kind}_{weights}_{size_tag}.npy"
    path = os.path.join(cache_dir, name) if cache_dir and run_dir.is_local(cache_dir) else None
    if path and os.path.exists(path):
        return np.load(path).astype(np.float64)
    values = inception.features(network, split_images(builder, split, size, channels, n))
    if path:
        with atomic_file.replacing(path) as partial, open(partial, "wb") as f:
            np.save(f, values.astype(np.float32))
    return values


def evaluate(
    translate,
    builder,
    size,
    network=None,
    directions=conventions.DIRECTIONS,
    channels=(3, 3),
    progress=False,
    max_images=None,
    reference_cache=None,
):
    """All metrics of ``directions`` on the test splits.

    Args:
        translate: callable (images float32 [n, h, w, c] in [-1, 1], "a2b" | "b2a") -> the
            translations, with the target domain's channels.
        builder: a prepared TFDS builder with testA/testB splits.
        size: the square size images are resized to (the training crop size).
        network: an ``inception.FeatureNetwork``, or None to skip FID and KID.
        directions: the directions ``translate`` can do; the cycle error needs both.
        channels: (domain A's, domain B's) image channels, 3 or 1.
        progress: a bar of the directions done, on a terminal (the evaluate command).
        max_images: read at most this many images of each test split (all by default):
            bounds the time and memory of training's periodic evaluations.
        reference_cache: a directory to keep the real images' features in between calls
            (training's periodic FID), or None.

    Returns:
        {"a2b/cycle_mae": ..., "a2b/fid": ..., "a2b/kid": ..., "a2b/kid_std": ...,
         and with ground truth "a2b/mae", "a2b/psnr", "a2b/untranslated_mae", ...}.
        FID/KID compare translated source-domain test images with the real test images of
        the target domain (e.g. 120 translated horse2zebra testA vs 140 real testB); with
        Keras' ImageNet network they are named ``keras_fid``, ``keras_kid``, ...
    """
    results = {}
    fns = {d: tf.function(lambda x, d=d: translate(x, d)) for d in directions}
    by_domain = dict(zip(conventions.DOMAINS, channels))
    bar = tqdm.tqdm(
        total=len(fns), unit="direction", file=sys.stdout, disable=None if progress else True
    )
    for direction, source_split, target_split in DIRECTIONS:
        if direction not in fns:
            continue
        bar.set_description(direction)
        d = conventions.DIRECTION[direction]
        pair = (by_domain[d.source], by_domain[d.target])
        source = split_images(builder, source_split, size, pair[0], max_images)
        fake = batched(fns[direction], source)
        back = d.reverse.name
        if back in fns:
            reconstructed = batched(fns[back], fake)
            cycle = float(tf.reduce_mean(tf.abs(reconstructed - source)))
            results[f"{direction}/cycle_mae"] = cycle
        if network is not None:
            fake_features = inception.features(network, fake.numpy())
            real_features = _reference_features(
                network, builder, target_split, size, pair[1], max_images, reference_cache
            )
            kid_mean, kid_std = fid.kid(fake_features, real_features)
            results[f"{direction}/{network.metric('fid')}"] = fid.fid(fake_features, real_features)
            results[f"{direction}/{network.metric('kid')}"] = kid_mean
            results[f"{direction}/{network.metric('kid_std')}"] = kid_std
        pairs = pipeline.paired_test_set(builder, source_split, size, pair)
        if pairs is not None:
            error = metrics.paired_translation_error(batched(fns[direction], pairs[0]), *pairs)
            results.update({f"{direction}/{k}": v for k, v in error.items()})
        bar.update()
    bar.close()
    return results
