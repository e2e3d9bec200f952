"""TFLite conversion (builtin ops only) and verification in the LiteRT runtime."""

import os
import statistics as statistics_lib
import time

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from tf_cyclegan.deploy import parity


def convert(concrete_fns, module, quantization, representative=None):
    """Converts float32 [-1, 1] -> [-1, 1] concrete functions to .tflite bytes.

    Args:
        concrete_fns: the functions, one signature each (named as the function).
        quantization: float32, float16 (weights), dynamic_range (int8 weights) or int8
            (full integer kernels, calibrated on ``representative``; float32 I/O).
        representative: float32 [n, h, w, 3] calibration images for int8.
    """
    converter = tf.lite.TFLiteConverter.from_concrete_functions(list(concrete_fns), module)
    # Builtins only: the stock LiteRT runtime on Android and iOS has no Flex delegate.
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "dynamic_range":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantization == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = lambda: ([x[np.newaxis]] for x in representative)
    elif quantization != "float32":
        raise ValueError(f"unknown quantization {quantization!r}")
    return converter.convert()


def op_names(model_path):
    """The operator names a .tflite file uses, e.g. {"CONV_2D", "MIRROR_PAD"}."""
    interpreter = Interpreter(model_path=model_path)
    return {op["op_name"] for op in interpreter._get_ops_details()}


def _tiled_runners(interpreter):
    """(statistics, tile) signature runners of a tiled .tflite, or None for other files."""
    tiles = [key for key in interpreter.get_signature_list() if key.endswith("_tile")]
    if not tiles:
        return None
    direction = tiles[0].removesuffix("_tile")
    return (
        interpreter.get_signature_runner(f"{direction}_statistics"),
        interpreter.get_signature_runner(tiles[0]),
    )


def run(model_path, images, num_threads=2):
    """Runs a .tflite translator on float32 [n, h, w, 3] images, one at a time, in LiteRT.

    A tiled file translates each image whole: its own statistics, then one tile.
    """
    interpreter = Interpreter(model_path=model_path, num_threads=num_threads)
    tiled = _tiled_runners(interpreter)
    input_index = interpreter.get_input_details()[0]["index"]
    outputs = []
    for image in images:
        x = image[np.newaxis].astype(np.float32)
        if tiled:
            statistics = tiled[0](images=x)["statistics"]
            outputs.append(tiled[1](images=x, statistics=statistics)["images"][0])
            continue
        # Dynamic-size models need the shape before allocation (else MIRROR_PAD fails).
        interpreter.resize_tensor_input(input_index, [1, *image.shape])
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, x)
        interpreter.invoke()
        output_index = interpreter.get_output_details()[0]["index"]
        outputs.append(interpreter.get_tensor(output_index)[0])
    return np.stack(outputs)


def latency_ms(model_path, image, num_threads, repeats=5):
    """Median single-image LiteRT latency in milliseconds after one warm-up (a tiled file:
    one tile the size of ``image``)."""
    interpreter = Interpreter(model_path=model_path, num_threads=num_threads)
    x = image[np.newaxis].astype(np.float32)
    tiled = _tiled_runners(interpreter)
    if tiled:
        statistics = tiled[0](images=x)["statistics"]
        invoke = lambda: tiled[1](images=x, statistics=statistics)  # noqa: E731
    else:
        input_index = interpreter.get_input_details()[0]["index"]
        interpreter.resize_tensor_input(input_index, [1, *image.shape])
        interpreter.allocate_tensors()
        interpreter.set_tensor(input_index, x)
        invoke = interpreter.invoke
    invoke()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        invoke()
        times.append(1000 * (time.perf_counter() - start))
    return round(statistics_lib.median(times), 1)


def export_direction(
    translator,
    direction,
    size,
    quantizations,
    dynamic,
    out_dir,
    images,
    expected,
    representative,
    latency_repeats=5,
):
    """Writes, runs and measures every .tflite variant of one direction.

    Args:
        images: float32 [n, size, size, 3] held-out images in [-1, 1].
        expected: the trained generator's outputs for ``images``.
        representative: float32 calibration images for int8.

    Returns:
        {artifact name: {"path", "size_bytes", "psnr_db", "max_abs_error", "latency_ms"}}.
    """
    fixed_fn = [translator.tflite_function(direction, size)]
    variants = [(f"{direction}_{q}", fixed_fn, q) for q in quantizations]
    if dynamic:
        dynamic_fn = [translator.tflite_function(direction, None)]
        variants.append((f"{direction}_float32_dynamic", dynamic_fn, "float32"))
        if translator.tileable:  # Large photos in bounded memory (tiling.py).
            tiled_fns = translator.tflite_tiled_functions(direction)
            variants.append((f"{direction}_float32_tiled", tiled_fns, "float32"))
    report = {}
    for name, fn, quantization in variants:
        try:
            model = convert(fn, translator, quantization, representative)
        except Exception as e:  # The converter raises many types; name the variant.
            raise parity.ParityError(f"{name}: TFLite conversion failed: {e}") from e
        path = os.path.join(out_dir, f"{name}.tflite")
        with open(path, "wb") as f:
            f.write(model)
        try:
            actual = run(path, images)
        except (RuntimeError, ValueError) as e:
            raise parity.ParityError(
                f"{name}: LiteRT cannot run it ({e}); int8 is known to fail for some "
                "generators with instance norm (tensorflow/tensorflow#59922): use float16"
            ) from e
        figures = parity.compare(expected, actual)
        parity.check(name, quantization, figures)
        report[name] = {
            "path": os.path.basename(path),
            "size_bytes": os.path.getsize(path),
            **figures,
            "latency_ms": {str(t): latency_ms(path, images[0], t, latency_repeats) for t in (1, 2)},
        }
    return report
