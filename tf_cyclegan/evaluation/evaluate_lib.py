"""Translation quality of a run: FID/KID, cycle error, and ground truth where it exists."""

import sys

import tensorflow as tf
import tqdm

from tf_cyclegan.common import conventions
from tf_cyclegan.data import pipeline, sources
from tf_cyclegan.evaluation import fid, inception, metrics

DIRECTIONS = tuple(
    (d, conventions.SOURCE_TEST[d], conventions.TARGET_TEST[d]) for d in conventions.DIRECTIONS
)


def split_images(builder, split, size, channels):
    n = sources.num_examples(builder, split)
    return pipeline.sample_images(builder, split, n, size, channels)


def batched(fn, images, batch_size=8):
    parts = [fn(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    return tf.concat(parts, axis=0)


def evaluate(
    translate,
    builder,
    size,
    inception_model=None,
    directions=conventions.DIRECTIONS,
    channels=(3, 3),
    progress=False,
):
    """All metrics of ``directions`` on the full test splits.

    Args:
        translate: callable (images float32 [n, h, w, c] in [-1, 1], "a2b" | "b2a") -> the
            translations, with the target domain's channels.
        builder: a prepared TFDS builder with testA/testB splits.
        size: the square size images are resized to (the training crop size).
        inception_model: from ``inception.load()``, or None to skip FID and KID.
        directions: the directions ``translate`` can do; the cycle error needs both.
        channels: (domain A's, domain B's) image channels, 3 or 1.
        progress: a bar of the directions done, on a terminal (the evaluate command).

    Returns:
        {"a2b/cycle_mae": ..., "a2b/fid": ..., "a2b/kid": ..., "a2b/kid_std": ...,
         and with ground truth "a2b/mae", "a2b/psnr", "a2b/untranslated_mae", ...}.
        FID/KID compare translated source-domain test images with the real test images of
        the target domain (e.g. 120 translated horse2zebra testA vs 140 real testB).
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
        source = split_images(builder, source_split, size, pair[0])
        fake = batched(fns[direction], source)
        back = d.reverse.name
        if back in fns:
            reconstructed = batched(fns[back], fake)
            cycle = float(tf.reduce_mean(tf.abs(reconstructed - source)))
            results[f"{direction}/cycle_mae"] = cycle
        if inception_model is not None:
            target = split_images(builder, target_split, size, pair[1])
            fake_features = inception.features(inception_model, fake.numpy())
            real_features = inception.features(inception_model, target.numpy())
            results[f"{direction}/fid"] = fid.fid(fake_features, real_features)
            kid_mean, kid_std = fid.kid(fake_features, real_features)
            results[f"{direction}/kid"], results[f"{direction}/kid_std"] = kid_mean, kid_std
        pairs = pipeline.paired_test_set(builder, source_split, size, pair)
        if pairs is not None:
            error = metrics.paired_translation_error(fns[direction], *pairs)
            results.update({f"{direction}/{k}": v for k, v in error.items()})
        bar.update()
    bar.close()
    return results
