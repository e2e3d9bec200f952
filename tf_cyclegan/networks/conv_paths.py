"""Which gradients each convolution trains with on this machine: chosen by measurement.

``fast_conv`` rewrites some convolution gradients as forward convolutions. Whether that wins
depends on the CPU and TensorFlow's kernels for it (1.5x faster on one AVX2 machine, 1.5x
slower on an AVX-512 one), so no rule is assumed: the first time a shape is traced in
training, forward plus both gradients are timed with the stock and the rewritten gradients,
and the faster one is used (stock unless the rewrite is clearly faster). Choices are logged
and cached on disk per machine (CPU model, TensorFlow version, oneDNN setting, threads), so
later runs reuse them. GPUs use stock gradients unless forced.
"""

import hashlib
import json
import os
import statistics
import threading
import time

import tensorflow as tf
from absl import logging

from tf_cyclegan.common import config, errors, run_dir

MODES = config.CONV_GRADIENTS
# The rewrite must beat stock by this factor to be chosen: near-ties keep stock kernels.
_MARGIN = 0.95
_REPEATS = 5

_state = {"mode": "auto", "cache_dir": None}
_choices = {}
_lock = threading.Lock()


def configure(mode="auto", cache_dir=None):
    """Sets how ``choose`` decides, for convolutions traced from now on.

    Args:
        mode: "auto" (measure once per shape and machine), "stock" or "fast" (forced).
        cache_dir: where measured choices are kept; default ``~/.cache/tf_cyclegan``.
    """
    if mode not in MODES:
        raise errors.ConfigError(f"--conv_gradients={mode}: expected one of {', '.join(MODES)}")
    _state.update(mode=mode, cache_dir=cache_dir)


def _cache_path():
    root = _state["cache_dir"] or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tf_cyclegan"
    )
    return os.path.join(root, "conv_paths.json")


def machine_key():
    """What the measurements depend on: CPU model and flags, TensorFlow, oneDNN, threads."""
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
        model = next((line for line in lines if line.startswith("model name")), "")
        flags = next((line for line in lines if line.startswith("flags")), "")
        cpu = f"{model.split(':')[-1].strip()} {hashlib.sha1(flags.encode()).hexdigest()[:8]}"
    except OSError:
        cpu = os.uname().machine
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default")
    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    return f"{cpu} | tf {tf.__version__} | onednn {onednn} | {threads} threads"


def _shape_key(input_shape, kernel_shape, dtype):
    batch, height, width = (d or 1 for d in input_shape[:3])
    k_h, k_w, c_in, c_out = kernel_shape
    return f"{batch}x{height}x{width}x{c_in}->{c_out} {k_h}x{k_w} {tf.as_dtype(dtype).name}"


def _load():
    try:
        with open(_cache_path()) as f:
            return json.load(f).get(machine_key(), {})
    except (OSError, ValueError, AttributeError):
        return {}  # No cache yet, or a damaged one: measure again.


def _store(key, choice):
    path = _cache_path()
    try:
        with open(path) as f:
            everything = json.load(f)
    except (OSError, ValueError):
        everything = {}
    everything.setdefault(machine_key(), {})[key] = choice
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        run_dir.write_json(path, everything)
    except OSError as e:  # A read-only home: measure again next time.
        logging.warning("Cannot cache convolution choices in %s: %s", path, e)


def choose(input_shape, kernel_shape, dtype, rewritten):
    """ "fast" or "stock": the gradients this stride-1 'valid' convolution trains with.

    Args:
        input_shape: [batch, height, width, in_channels] (static; None dims count as 1).
        kernel_shape: [k_h, k_w, in_channels, out_channels].
        dtype: the compute dtype.
        rewritten: conv(x, kernel) -> y, stride 1 'valid', with the rewritten gradients
            (``fast_conv``); None where no rewrite exists for this shape.
    """
    kernel_shape = [int(d) for d in kernel_shape]
    if rewritten is None:
        return "stock"
    if _state["mode"] != "auto":
        return _state["mode"]
    if tf.config.list_logical_devices("GPU"):
        return "stock"
    key = _shape_key(input_shape, kernel_shape, dtype)
    with _lock:  # Replicas trace in threads: measure each shape once, alone.
        if key not in _choices:
            cached = _load().get(key)
            if cached:
                _choices[key] = cached["choice"]
            else:
                stock_ms, fast_ms = _measure_apart(input_shape, kernel_shape, dtype, rewritten)
                choice = "fast" if fast_ms < _MARGIN * stock_ms else "stock"
                logging.info(
                    "Convolution %s: stock gradients %.1f ms, rewritten %.1f ms: %s",
                    key,
                    stock_ms,
                    fast_ms,
                    choice,
                )
                _store(key, {"choice": choice, "stock_ms": stock_ms, "fast_ms": fast_ms})
                _choices[key] = choice
    return _choices[key]


def _measure_apart(*args):
    """``measure`` in a thread of its own: eager, outside the graph being traced, the
    caller's gradient tapes and its distribution strategy (all thread-local)."""
    result = []
    thread = threading.Thread(target=lambda: result.append(measure(*args)))
    thread.start()
    thread.join()
    if not result:
        raise RuntimeError(f"timing the convolution {args} failed; see the log above")
    return result[0]


def measure(input_shape, kernel_shape, dtype, rewritten, repeats=_REPEATS):
    """Median ms of forward plus both gradients: (stock, rewritten), timed interleaved."""
    batch, height, width = (d or 1 for d in input_shape[:3])
    k_h, k_w, c_in, c_out = kernel_shape
    x = tf.random.stateless_normal([batch, height, width, c_in], [1, 2], dtype=dtype)
    w = tf.cast(0.02 * tf.random.stateless_normal(kernel_shape, [3, 4]), dtype)
    upstream = tf.random.stateless_normal(
        [batch, height - k_h + 1, width - k_w + 1, c_out], [5, 6], dtype=dtype
    )
    runs = [
        _forward_and_gradients(lambda a, b: tf.nn.conv2d(a, b, 1, "VALID")),
        _forward_and_gradients(rewritten),
    ]
    times = [[], []]
    for run in runs:
        run(x, w, upstream)  # Trace and warm up.
    for _ in range(repeats):
        for run, spent in zip(runs, times):
            start = time.perf_counter()
            run(x, w, upstream)
            spent.append(1000 * (time.perf_counter() - start))
    return statistics.median(times[0]), statistics.median(times[1])


def _forward_and_gradients(conv):
    @tf.function
    def run(x, w, upstream):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            loss = tf.reduce_sum(conv(x, w) * upstream)
        dx, dw = tape.gradient(loss, [x, w])
        return tf.reduce_sum(dx) + tf.reduce_sum(dw)  # One scalar: no large copies out.

    return lambda *args: run(*args).numpy()
