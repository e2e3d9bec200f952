r"""The benchmark suite: train step vs this machine's measured peak, input pipeline, exports.

  python benchmarks/run.py                       # under 10 minutes on a 2-core CPU
  python benchmarks/run.py --budget_seconds=0    # everything, however long it takes

Prints the CPU it ran on and the matmul and 3x3-convolution peaks measured in the same run,
then for each configuration the step with stock convolution gradients and with the paths
``conv_paths`` chooses on this machine ("auto"), so a regression on any CPU shows in one
command. Writes JSON (--json). Configurations that would overrun the budget are listed as
skipped, with their estimated cost. Images/s counts images per domain. Plain rows are the
median of --steps steps after a warm-up; XLA rows (slow to compile on a CPU) time one step
after the compiling one.
"""

import json
import statistics
import tempfile
import time

from absl import app, flags
from common import conv_peak_gflops, cpu_description, matmul_peak_gflops, train_step

_BUDGET = flags.DEFINE_integer("budget_seconds", 570, "Stop starting new work after this; 0: none.")
_STEPS = flags.DEFINE_integer("steps", 3, "Timed train steps per configuration (after 1 warm-up).")
_SIZES = flags.DEFINE_list("sizes", "128,256", "Crop sizes.")
_GENERATORS = flags.DEFINE_list("generators", "resnet_9blocks,resnet_6blocks", "Generators.")
_JSON = flags.DEFINE_string("json", "benchmark_results.json", "Where to write the results.")
# XLA steps measured 2-4x slower than the plain step here (ResNet-9: 4.0x at 128 px, 1.9x at
# 256); XLA rows time one step after the compiling one, and are estimated from the plain row.
_XLA_SLOWDOWN = 3.5
_XLA_COMPILE_SECONDS = 45


def input_pipeline_images_per_second(batches=300):
    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.data import pipeline, sources

    builder = sources.get_builder("synthetic")
    ds = pipeline.train_dataset(builder, config_lib.DataConfig(), seed=0, global_batch_size=1)
    iterator = iter(ds)
    for _ in range(20):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return 2 * batches / (time.perf_counter() - start)


def inference(sizes=((256, 256), (768, 1024)), repeats=3):
    """ResNet-9 (random weights) images/s on 2 threads: the SavedModel that ``translate``
    loads, and LiteRT float32 and float16 dynamic-size files, at each (height, width)."""
    import os

    import numpy as np
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.exporting import tflite_export
    from tf_cyclegan.networks import models
    from tf_cyclegan.serving import litert, serving_module

    generator = models.build_generator(config_lib.ModelConfig())
    translator = serving_module.ServingModule({"a2b": generator, "b2a": generator}, 4)
    folder = tempfile.mkdtemp()
    saved = os.path.join(folder, "saved_model")
    tf.saved_model.save(translator, saved, signatures=translator.signatures())
    signature = tf.saved_model.load(saved).signatures["a2b"]
    files = {}
    for quantization in ("float32", "float16"):
        model = tflite_export.convert(
            [translator.tflite_function("a2b", None)], translator, quantization
        )
        files[quantization] = os.path.join(folder, f"{quantization}.tflite")
        with open(files[quantization], "wb") as f:
            f.write(model)
    out = {}
    for height, width in sizes:
        image = np.zeros((1, height, width, 3), np.uint8)
        signature(images=tf.constant(image))
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            signature(images=tf.constant(image))["images"].numpy()
            times.append(time.perf_counter() - start)
        row = {"saved_model": round(1 / statistics.median(times), 2)}
        for quantization, path in files.items():
            ms = litert.TfliteModel(path, 2).latency_ms(image[0].astype(np.float32), repeats)
            row[f"litert_{quantization}"] = round(1000 / ms, 2)
        out[f"{width}x{height}"] = row
    return out


def main(argv):
    del argv
    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.common import precision as precision_lib
    from tf_cyclegan.networks import flops

    start, budget = time.perf_counter(), _BUDGET.value
    left = lambda: float("inf") if not budget else budget - (time.perf_counter() - start)  # noqa: E731
    import tensorflow as tf

    cpu = cpu_description()
    matmul_peak, peak = matmul_peak_gflops(), conv_peak_gflops()
    results = {
        "cpu": cpu,
        "tensorflow": tf.__version__,
        "matmul_peak_gflops": round(matmul_peak, 1),
        "conv_peak_gflops": round(peak, 1),
        "train_step": {},
        "skipped": {},
    }
    print(f"CPU: {cpu}; TensorFlow {tf.__version__}")
    print(f"measured fp32 peaks: matmul {matmul_peak:.1f} GFLOP/s, 3x3 conv {peak:.1f} GFLOP/s")
    print(f"{'configuration':<40}{'ms/step':>10}{'images/s':>10}{'GFLOP/s':>10}{'of conv':>9}")
    # Convolution gradients ("stock", or conv_paths' "auto"), then the precision: float32,
    # and what --mixed_precision=auto trains in where that is not float32.
    auto_precision = precision_lib.resolve("auto")[0]
    plain_modes = ("stock", "auto") + (
        (f"auto {auto_precision}",) if auto_precision != "float32" else ()
    )
    configs = [
        (g, int(s), xla, mode)
        for xla in (False, True)
        for s in _SIZES.value
        for g in _GENERATORS.value
        for mode in (("auto",) if xla else plain_modes)
    ]
    for index, (generator, size, xla, mode) in enumerate(configs):
        name = f"{generator} {size}px{' XLA' if xla else ''} {mode}"
        work = flops.iteration_flops(config_lib.ModelConfig(generator=generator), size)
        plain = results["train_step"].get(f"{generator} {size}px stock", {}).get("ms_per_step")
        step_estimate = plain / 1000 if plain else work / (0.5 * peak * 1e9)
        if xla:
            estimate = 2 * _XLA_SLOWDOWN * step_estimate + _XLA_COMPILE_SECONDS
        else:
            estimate = (_STEPS.value + 1) * step_estimate + 20
        if index > 0 and estimate > left():
            results["skipped"][name] = f"estimated {estimate:.0f} s, {max(left(), 0):.0f} s left"
            print(f"{name:<40}  skipped: {results['skipped'][name]}", flush=True)
            continue
        conv, _, precision = mode.partition(" ")
        steps = 1 if xla else _STEPS.value
        seconds = train_step(generator, size, xla, steps, conv, precision or "float32")
        achieved = work / seconds / 1e9
        results["train_step"][name] = {
            "ms_per_step": round(1000 * seconds),
            "images_per_second": round(1 / seconds, 3),
            "tflop_per_step": round(work / 1e12, 3),
            "achieved_gflops": round(achieved, 1),
            "fraction_of_peak": round(achieved / peak, 3),
        }
        print(
            f"{name:<40}{1000 * seconds:>10.0f}{1 / seconds:>10.3f}{achieved:>10.1f}"
            f"{achieved / peak:>9.0%}",
            flush=True,
        )
        last = generator == _GENERATORS.value[-1] and size == int(_SIZES.value[-1])
        if not xla and mode == "auto" and last:
            results["input_pipeline_images_per_second"] = round(input_pipeline_images_per_second())
            print(f"input pipeline: {results['input_pipeline_images_per_second']} images/s")
            if left() > 120:
                results["inference_images_per_second"] = inference()
                print("inference, images/s on 2 threads (ResNet-9):")
                for key, value in results["inference_images_per_second"].items():
                    print(f"  {key}: {value}")
    from tf_cyclegan.networks import conv_paths

    results["conv_choices"] = dict(conv_paths._choices)
    print("auto chose:", ", ".join(f"{k}: {v}" for k, v in sorted(conv_paths._choices.items())))
    with open(_JSON.value, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Wrote {_JSON.value} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    app.run(main)
