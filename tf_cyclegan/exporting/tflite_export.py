"""TFLite conversion (builtin ops only) and verification in the LiteRT runtime."""

import os

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import interrupts
from tf_cyclegan.exporting import delegates, parity
from tf_cyclegan.serving import litert


def convert(concrete_fns, module, quantization, representative=None):
    """Converts float32 [-1, 1] -> [-1, 1] concrete functions to .tflite bytes.

    Args:
        concrete_fns: the functions, one signature each (named as the function).
        quantization: float32, float16 (weights), dynamic_range (int8 weights) or int8
            (full integer kernels, calibrated on ``representative``; float32 I/O).
        representative: float32 [n, h, w, c] calibration images for int8.
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
    # Minutes for a large model: in a thread, so that Ctrl-C and SIGTERM act at once.
    return interrupts.responsive(converter.convert)()


def run(model_path, images, num_threads=2):
    """Runs a .tflite translator on float32 [n, h, w, c] images, one at a time, in LiteRT
    (a tiled file translates each image whole: its own statistics, then one tile)."""
    model = litert.TfliteModel(model_path, num_threads)
    return np.concatenate([model.translate(image[np.newaxis]) for image in images])


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
        images: float32 [n, size, size, c] held-out images in [-1, 1].
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
            "latency_ms": {
                str(t): litert.TfliteModel(path, t).latency_ms(images[0], latency_repeats)
                for t in (1, 2)
            },
            # [] when the LiteRT GPU delegate runs the whole graph.
            "gpu_delegate_unsupported_ops": delegates.gpu_unsupported(
                litert.TfliteModel(path).op_names()
            ),
        }
    return report
