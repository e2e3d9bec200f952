r"""float32 against --mixed_precision=auto, beside the official step in PyTorch, on this machine.

  python benchmarks/precision.py                  # 128 px, 2 rounds: about 6 minutes on 2 cores
  python benchmarks/precision.py --size=256 --rounds=1

Prints the CPU and its measured peaks (matmul and 3x3 convolutions, float32 and bfloat16),
then per round, interleaved so that load changes hit every row alike: our train step
(ResNet-9, batch 1) in float32 and in what ``auto`` resolves to here, and, when ``torch`` is
importable, PyTorch's official step (``tools/torch_train_step.py``) in float32 and under
``torch.autocast('cpu', bfloat16)``. Each step's GFLOP/s is ``flops.iteration_flops`` over
its median time, also as a share of the bfloat16 convolution rate. Then translation
(``ServingModule``, what ``translate`` runs for a run directory) in images/s at --size.
Without native bfloat16, ``auto`` is float32 and its rows show that it costs nothing.
"""

import os
import statistics
import sys
import time

from absl import app, flags
from common import conv_peak_gflops, cpu_description, matmul_peak_gflops, train_step

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))

_SIZE = flags.DEFINE_integer("size", 128, "Crop size of the train step.")
_ROUNDS = flags.DEFINE_integer("rounds", 2, "Interleaved rounds of every row.")
_STEPS = flags.DEFINE_integer("steps", 3, "Timed steps per row and round (after 1 warm-up).")
_GENERATOR = flags.DEFINE_string("generator", "resnet_9blocks", "Generator.")
_INFERENCE_SIZE = flags.DEFINE_integer("inference_size", 256, "Side of translated images.")


def _torch_rows():
    """{name: () -> seconds per step} for PyTorch, or {} where torch is not installed."""
    try:
        import torch_train_step
    except ImportError:
        return {}
    size, steps, generator = _SIZE.value, _STEPS.value, _GENERATOR.value
    return {
        "PyTorch official, float32": lambda: torch_train_step.seconds_per_step(
            size, steps, False, generator
        ),
        "PyTorch official, autocast bfloat16": lambda: torch_train_step.seconds_per_step(
            size, steps, True, generator
        ),
    }


def translation_images_per_second(precision, size, repeats=5):
    """Images/s of the uint8 ``a2b`` function of a ResNet-9 (random weights) in ``precision``."""
    import numpy as np
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.common import precision as precision_lib
    from tf_cyclegan.networks import models
    from tf_cyclegan.serving import serving_module

    with precision_lib.dtype_policy(precision):
        generator = models.build_generator(config_lib.ModelConfig(generator=_GENERATOR.value))
    module = serving_module.ServingModule({"a2b": generator}, 4)
    image = tf.constant(np.zeros((1, size, size, 3), np.uint8))
    module.a2b(image)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        module.a2b(image)["images"].numpy()
        times.append(time.perf_counter() - start)
    return 1 / statistics.median(times)


def main(argv):
    del argv
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.common import precision as precision_lib
    from tf_cyclegan.networks import flops

    auto, why = precision_lib.resolve("auto")
    print(f"CPU: {cpu_description()}; TensorFlow {tf.__version__}; auto = {auto} ({why})")
    peaks = {}
    for dtype in ("float32", "bfloat16"):
        peaks[dtype] = conv_peak_gflops(dtype=dtype)
        print(
            f"{dtype:>9} peaks: matmul 2048^3 {matmul_peak_gflops(dtype=dtype):6.0f} GFLOP/s, "
            f"conv 3x3 1x64x64x256 {peaks[dtype]:6.0f}, "
            f"1x256x256x64 {conv_peak_gflops(256, 64, dtype):6.0f}"
        )
    size = _SIZE.value
    work = flops.iteration_flops(config_lib.ModelConfig(generator=_GENERATOR.value), size)
    rows = {
        "ours, float32": lambda: train_step(_GENERATOR.value, size, False, _STEPS.value),
        f"ours, auto ({auto})": lambda: train_step(
            _GENERATOR.value, size, False, _STEPS.value, precision="auto"
        ),
        **_torch_rows(),
    }
    if len(rows) == 2:
        print("(torch is not importable: no PyTorch rows; see tools/torch_train_step.py)")
    times = {name: [] for name in rows}
    for round_ in range(_ROUNDS.value):
        for name, measure in rows.items():
            times[name].append(measure())
            print(f"  round {round_ + 1}: {name}: {times[name][-1]:.2f} s", flush=True)
    print(f"\n{_GENERATOR.value} at {size} px, batch 1, {work / 1e12:.3f} TFLOP per step")
    print(f"{'':40}{'s/step':>8}{'GFLOP/s':>9}{'of bf16 conv':>14}")
    for name, seconds in times.items():
        best = min(seconds)
        rate = work / best / 1e9
        shown = ", ".join(f"{s:.2f}" for s in seconds)
        print(f"{name:40}{best:8.2f}{rate:9.0f}{rate / peaks['bfloat16']:14.0%}   ({shown})")
    inference = _INFERENCE_SIZE.value
    for precision in ("float32", auto):
        rate = translation_images_per_second(precision, inference)
        print(f"translate {inference} px, {precision}: {rate:.2f} images/s")
        if auto == "float32":
            break


if __name__ == "__main__":
    app.run(main)
