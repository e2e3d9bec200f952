r"""Stock vs ``fast_conv`` gradients for the CycleGAN convolutions that dominate a train step.

  python benchmarks/conv_gradients.py            # about a minute on a 2-core CPU

For each shape, times forward + both gradients (median of repeats, after a warm-up) with
TensorFlow's own gradients and with ``networks.fast_conv``, and prints the rates in GFLOP/s
of the three convolutions' worth of work, so the two columns compare like with like.
"""

import statistics
import time

from absl import app, flags

_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed repeats per row.")

# (name, batch, output height/width, in channels, out channels, kernel) at a 256 px crop.
_SHAPES = (
    ("generator head 64->3 7x7", 2, 256, 64, 3, 7),
    ("discriminator head 512->1 4x4", 2, 30, 512, 1, 4),
    ("residual 256->256 3x3, batch 2", 2, 64, 256, 256, 3),
    ("residual 256->256 3x3, batch 1", 1, 64, 256, 256, 3),
)


def _time(fn, *args):
    [t.numpy() for t in fn(*args)]
    times = []
    for _ in range(_REPEATS.value):
        start = time.perf_counter()
        [t.numpy() for t in fn(*args)]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _forward_and_gradients(conv):
    import tensorflow as tf

    @tf.function
    def run(x, w, upstream):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            outputs = conv(x, w)
            loss = tf.reduce_sum(outputs * upstream)
        return [outputs, *tape.gradient(loss, [x, w])]

    return run


def main(argv):
    del argv
    import tensorflow as tf

    from tf_cyclegan.networks import fast_conv

    stock = _forward_and_gradients(lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"))
    fast = _forward_and_gradients(fast_conv.conv2d_with_fast_gradients)
    print(
        f"{'convolution':<34}{'stock ms':>10}{'GFLOP/s':>9}{'fast ms':>10}{'GFLOP/s':>9}"
        f"{'speed-up':>10}"
    )
    for name, batch, size, c_in, c_out, k in _SHAPES:
        x = tf.random.stateless_normal([batch, size + k - 1, size + k - 1, c_in], [1, 2])
        w = 0.02 * tf.random.stateless_normal([k, k, c_in, c_out], [3, 4])
        upstream = tf.random.stateless_normal([batch, size, size, c_out], [5, 6])
        gflop = 3 * 2 * batch * size * size * k * k * c_in * c_out / 1e9
        t_stock, t_fast = _time(stock, x, w, upstream), _time(fast, x, w, upstream)
        print(
            f"{name:<34}{t_stock * 1e3:>10.1f}{gflop / t_stock:>9.1f}{t_fast * 1e3:>10.1f}"
            f"{gflop / t_fast:>9.1f}{t_stock / t_fast:>9.1f}x",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
