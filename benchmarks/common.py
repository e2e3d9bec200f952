"""Measurements shared by the benchmark scripts: this CPU, its peaks, one timed train step."""

import dataclasses
import statistics
import time


def _chained_rate(op, x, flop_per_call, repeats=10):
    """GFLOP/s of ``repeats`` dependent calls of ``op`` (no call can be merged or skipped)."""
    import tensorflow as tf

    @tf.function
    def run(x):
        for _ in range(repeats):
            x = op(x)
        return tf.reduce_sum(x)

    run(x).numpy()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run(x).numpy()
        times.append(time.perf_counter() - start)
    return flop_per_call * repeats / statistics.median(times) / 1e9


def matmul_peak_gflops(n=2048, dtype="float32"):
    """matmul rate in ``dtype``, n x n by n x n."""
    import tensorflow as tf

    a = tf.cast(tf.random.stateless_normal([n, n], [1, 2]) / n**0.5, dtype)  # Keeps the norm.
    return _chained_rate(lambda x: tf.matmul(x, a), a, 2 * n**3)


def conv_peak_gflops(size=64, channels=256, dtype="float32"):
    """Forward rate of a 3x3 convolution in ``dtype``, batch 1; the defaults are the residual
    blocks' at 256 px (the bulk of a ResNet generator's work)."""
    import tensorflow as tf

    x = tf.cast(tf.random.stateless_normal([1, size, size, channels], [1, 2]), dtype)
    w = tf.random.stateless_normal([3, 3, channels, channels], [3, 4]) / (9 * channels) ** 0.5
    w = tf.cast(w, dtype)
    flop = 2 * size * size * 9 * channels * channels
    return _chained_rate(lambda y: tf.nn.conv2d(y, w, 1, "SAME"), x, flop)


def cpu_description():
    """The CPU model and the vector extensions that decide kernel speed."""
    import os
    import re

    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "unknown CPU"
    model = re.search(r"model name\s*: (.*)", text)
    flags = set(re.search(r"flags\s*: (.*)", text).group(1).split()) if "flags" in text else set()
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")
    return (
        f"{model.group(1) if model else 'unknown'}, {os.cpu_count()} cores, "
        f"{' '.join(f for f in wanted if f in flags)}"
    )


def train_step(
    generator,
    size,
    jit_compile,
    steps,
    mode="auto",
    precision="float32",
    after_warmup=None,
    family="cyclegan",
    **model_options,
):
    """Median seconds per step (batch 1, after one warm-up step).

    Args:
        family: "cyclegan", "cut" or "fastcut" (with its official defaults).
        model_options: ``ModelConfig`` fields (ngf, ndf, upsample, ...).
        mode: the convolution gradients: "stock", or "auto" (conv_paths' measured choice).
        precision: "float32", "bfloat16", "float16" or "auto" (what training would pick).
        after_warmup: called with (model, iterator) after the warm-up step (a profiler).
    """
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.common import precision as precision_lib
    from tf_cyclegan.networks import conv_paths
    from tf_cyclegan.training import train_lib

    conv_paths.configure(mode)
    precision = precision_lib.resolve(precision)[0]
    config = config_lib.Config(
        data=config_lib.DataConfig(crop_size=size, load_size=size, batch_size=1),
        train=config_lib.TrainConfig(jit_compile=jit_compile, mixed_precision=precision),
    )
    config = config_lib.with_family(config, family)
    # Options given win over the family's defaults, as on the command line.
    networks = dataclasses.replace(config.model, generator=generator, **model_options)
    config = dataclasses.replace(config, model=networks)
    model = train_lib.FAMILIES[family](config, steps_per_epoch=1000)
    images = tf.random.stateless_uniform([2, 1, size, size, 3], [1, 2], -1.0, 1.0)
    ds = tf.data.Dataset.from_tensors({"a": images[0], "b": images[1]}).repeat()
    iterator = iter(tf.distribute.get_strategy().experimental_distribute_dataset(ds))
    model.train_step(iterator)["generators/total"].numpy()
    if after_warmup:
        after_warmup(model, iterator)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_step(iterator)["generators/total"].numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
