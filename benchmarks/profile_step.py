r"""Where the train step's time goes: a profiler trace, an ablation profile, NHWC vs NCHW.

  python benchmarks/profile_step.py                # ResNet-9 at 256 px, about 6 minutes on 2 cores
  python benchmarks/profile_step.py --size=128 --precision=bfloat16 --trace_dir=/tmp/trace

With --trace_dir: traces --steps steps with TensorFlow's profiler (open it in TensorBoard's
Profile tab) and prints the op types that took the most time, then stops.

Each row times the whole CycleGAN step (both generators and discriminators, forward and
backward, batch 1) with one kind of layer replaced by the identity, or instance norm and ReLU
replaced by one fused op, so its cost is the difference to the full step; every variant is built
and timed in this process with conv_paths' "auto" choice. The numbers are not a model anyone
would train: they bound what fusing or speeding up that layer kind could save. The last rows
time one residual-block convolution (forward and both gradients) in NHWC and NCHW.
"""

import contextlib
import os
import statistics
import time

from absl import app, flags
from common import cpu_description, train_step

_SIZE = flags.DEFINE_integer("size", 256, "Crop size.")
_STEPS = flags.DEFINE_integer("steps", 3, "Timed steps per variant (after 1 warm-up).")
_GENERATOR = flags.DEFINE_string("generator", "resnet_9blocks", "Generator.")
_PRECISION = flags.DEFINE_enum(
    "precision", "float32", ["float32", "bfloat16", "auto"], "The step's --mixed_precision."
)
_TRACE_DIR = flags.DEFINE_string(
    "trace_dir", None, "Write a profiler trace here; print its top ops."
)
_TOP = flags.DEFINE_integer("top", 15, "Op types listed from the trace.")


@contextlib.contextmanager
def _patched(obj, name, value):
    original = getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        setattr(obj, name, original)


def _fused_norm_relu(x, epsilon):
    """relu(instance_standardize(x)) as one op with a hand-written gradient."""
    import tensorflow as tf

    @tf.custom_gradient
    def fused(x):
        mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
        inv_std = tf.math.rsqrt(variance + epsilon)
        y = (x - mean) * inv_std
        out = tf.nn.relu(y)

        def grad(dout):
            dy = tf.where(y > 0, dout, tf.zeros_like(dout))
            mean_dy = tf.reduce_mean(dy, axis=[1, 2], keepdims=True)
            mean_dy_y = tf.reduce_mean(dy * y, axis=[1, 2], keepdims=True)
            return inv_std * (dy - mean_dy - y * mean_dy_y)

        return out, grad

    return fused(x)


def _variants():
    """(name, function of an ExitStack that swaps one layer kind for the step) pairs."""
    import keras
    import tensorflow as tf

    from tf_cyclegan.networks import layers

    def swap(obj, name, value):
        return lambda stack: stack.enter_context(_patched(obj, name, value))

    def identity(self, inputs, *args, **kwargs):
        return inputs

    def zero_pad(self, inputs):
        p = self.padding
        return tf.pad(inputs, [[0, 0], [p, p], [p, p], [0, 0]])

    def fused_call(self, inputs, training=None):
        return tf.cast(_fused_norm_relu(tf.cast(inputs, tf.float32), 1e-5), inputs.dtype)

    def fused(stack):
        # Every norm (also the two per residual block with no ReLU after them) becomes
        # norm+ReLU and the ReLUs the identity: an upper bound on what fusing could save.
        swap(layers.InstanceNormalization, "call", fused_call)(stack)
        swap(keras.layers.ReLU, "call", identity)(stack)

    return [
        ("full step", lambda stack: None),
        ("instance norm -> identity", swap(layers.InstanceNormalization, "call", identity)),
        ("ReLU -> identity", swap(keras.layers.ReLU, "call", identity)),
        ("reflection pad -> zero pad", swap(layers.ReflectionPadding2D, "call", zero_pad)),
        ("norm+ReLU fused (upper bound)", fused),
    ]


def _conv_seconds(data_format, size=64, channels=256, repeats=5):
    """Median seconds of one 3x3 convolution's forward and both gradients."""
    import tensorflow as tf

    shape = [1, size, size, channels] if data_format == "NHWC" else [1, channels, size, size]
    x = tf.random.stateless_normal(shape, [1, 2])
    w = tf.random.stateless_normal([3, 3, channels, channels], [3, 4]) * 0.02

    @tf.function
    def run(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = tf.nn.conv2d(x, w, 1, "SAME", data_format=data_format)
            loss = tf.reduce_sum(y * y)
        dx, dw = tape.gradient(loss, [x, w])
        return tf.reduce_sum(dx) + tf.reduce_sum(dw)

    run(x, w).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(x, w).numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _op_totals(trace_dir):
    """{op type: seconds} summed over the TensorFlow op events of the host's profile."""
    import collections
    import glob

    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    totals = collections.Counter()
    for path in glob.glob(os.path.join(trace_dir, "**", "*.xplane.pb"), recursive=True):
        space = xplane_pb2.XSpace()
        with open(path, "rb") as f:
            space.ParseFromString(f.read())
        for plane in space.planes:
            if not plane.name.startswith("/host:CPU"):
                continue
            for line in plane.lines:
                if not line.name.startswith("tf_Compute"):  # The executor's threads.
                    continue
                for event in line.events:
                    name = plane.event_metadata[event.metadata_id].name
                    if ":" in name and "::" not in name:  # "scope/node:OpType"
                        totals[name.rsplit(":", 1)[-1]] += event.duration_ps * 1e-12
    return totals


def _trace(steps):
    """Traces ``steps`` train steps and prints where their time went, by op type."""
    import tensorflow as tf

    def traced(model, iterator):
        tf.profiler.experimental.start(_TRACE_DIR.value)
        for _ in range(steps):
            model.train_step(iterator)["generators/total"].numpy()
        tf.profiler.experimental.stop()

    seconds = train_step(
        _GENERATOR.value, _SIZE.value, False, 1, precision=_PRECISION.value, after_warmup=traced
    )
    totals = _op_totals(_TRACE_DIR.value)
    busy = sum(totals.values())
    print(
        f"traced {steps} steps ({seconds:.2f} s/step untraced); op time {busy / steps:.2f} s/step"
    )
    print("  (on 2 cores ops overlap, so op time can exceed the step's)")
    for name, total in totals.most_common(_TOP.value):
        print(f"  {name:40s} {total / steps:7.3f} s/step  {total / busy:6.1%}")


def main(argv):
    del argv
    print(cpu_description())
    if _TRACE_DIR.value:
        _trace(_STEPS.value)
        return
    full = None
    print(f"{_GENERATOR.value} at {_SIZE.value} px, batch 1, median of {_STEPS.value} steps")
    for name, enter in _variants():
        with contextlib.ExitStack() as stack:
            enter(stack)
            seconds = train_step(
                _GENERATOR.value, _SIZE.value, False, _STEPS.value, precision=_PRECISION.value
            )
        full = full or seconds
        share = (full - seconds) / full
        print(f"  {name:32s} {seconds:6.2f} s/step  saves {share:6.1%} of the full step")
    for data_format in ("NHWC", "NCHW"):
        label = f"  3x3 conv 64x64x256 fwd+bwd {data_format}:"
        try:
            print(f"{label} {1e3 * _conv_seconds(data_format):7.1f} ms")
        except Exception as error:  # noqa: BLE001 (reported: NCHW is unsupported on some CPUs)
            print(f"{label} unsupported ({type(error).__name__})")


if __name__ == "__main__":
    app.run(main)
