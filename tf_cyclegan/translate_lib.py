"""Translating image files with any of the model forms a user may hold.

Never overwrites an input, never lets two inputs write one output, and writes each output
through a temporary file, so an interrupted run leaves whole files only.
"""

import os

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

from tf_cyclegan import errors, image_files, serving

OUTPUT_SUFFIX = ".png"


def _export_model(export_dir, direction):
    """The model file inside an ``export`` directory: its SavedModel, else a .tflite."""
    saved_model = os.path.join(export_dir, serving.SAVED_MODEL)
    if tf.io.gfile.exists(os.path.join(saved_model, "saved_model.pb")):
        return saved_model
    for variant in ("float32_dynamic", "float32", "float16"):
        path = os.path.join(export_dir, f"{direction}_{variant}.tflite")
        if tf.io.gfile.exists(path):
            return path
    raise errors.ConfigError(
        f"--model={export_dir} is an export without a SavedModel or a float {direction} "
        ".tflite; export again with --formats=saved_model or pick a .tflite file"
    )


def load_translator(model, direction):
    """Returns a function uint8 [n, h, w, 3] -> uint8 [n, h, w, 3] for ``model``.

    Args:
        model: a training run directory (has config.json and checkpoints), an export
            directory (what ``export`` writes), a SavedModel directory, or a .tflite file
            (fixed or dynamic size; float32 [-1, 1] I/O).
        direction: "a2b" or "b2a".
    """
    if direction not in serving.DIRECTIONS:
        raise errors.ConfigError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
    if not tf.io.gfile.exists(model):
        raise errors.MissingError(f"--model={model} does not exist")
    if tf.io.gfile.exists(os.path.join(model, serving.REPORT_FILE)):
        model = _export_model(model, direction)
    if model.endswith(".tflite"):
        return _tflite_translator(model, direction)
    if tf.io.gfile.exists(os.path.join(model, "saved_model.pb")):
        signature = tf.saved_model.load(model).signatures[direction]
        return lambda images: signature(images=tf.constant(images))["images"].numpy()
    if tf.io.gfile.exists(os.path.join(model, "config.json")):
        from tf_cyclegan import export_lib, models

        config, generators, _ = export_lib.load_generators(model)
        translator = serving.Translator(generators, models.size_multiple(config.model.generator))
        fn = getattr(translator, direction)
        return lambda images: fn(tf.constant(images))["images"].numpy()
    raise errors.ConfigError(
        f"--model={model!r} is neither a .tflite file, an export or SavedModel directory, "
        "nor a training run directory (with config.json)"
    )


def tflite_direction(path, input_name):
    """'a2b' or 'b2a' as the .tflite says (its input's name, else its file name), or None."""
    for text in (input_name, os.path.basename(path)):
        found = [d for d in serving.DIRECTIONS if d in text]
        if len(found) == 1:
            return found[0]
    return None


def _tflite_translator(path, direction):
    from ai_edge_litert.interpreter import Interpreter

    with tf.io.gfile.GFile(path, "rb") as f:
        interpreter = Interpreter(model_content=f.read())
    details = interpreter.get_input_details()[0]
    written_for = tflite_direction(path, details["name"])
    if written_for not in (None, direction):
        raise errors.ConfigError(
            f"{path} translates {written_for}, but --direction={direction}; pass "
            f"--direction={written_for} or the {direction} model"
        )
    index = details["index"]
    fixed = details["shape_signature"][1] > 0
    size = tuple(details["shape"][1:3])

    def translate(images):
        return np.stack([translate_one(image) for image in images])

    def translate_one(image):
        height, width = image.shape[:2]
        x = image
        if fixed:  # A fixed-size model: resize in and back out.
            x = np.asarray(Image.fromarray(image).resize(size[::-1], Image.BICUBIC))
        interpreter.resize_tensor_input(index, [1, *x.shape])
        interpreter.allocate_tensors()
        interpreter.set_tensor(index, (x[np.newaxis] / 127.5 - 1.0).astype(np.float32))
        interpreter.invoke()
        y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
        y = np.clip(np.round((y + 1.0) * 127.5), 0, 255).astype(np.uint8)
        if fixed:
            y = np.asarray(Image.fromarray(y).resize((width, height), Image.BICUBIC))
        return y

    return translate


def list_images(path):
    """The image files at ``path`` (a file, or a folder's image files in sorted order)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise errors.MissingError(f"--input={path} does not exist")
    names = sorted(n for n in os.listdir(path) if n.lower().endswith(image_files.IMAGE_EXTENSIONS))
    return [os.path.join(path, n) for n in names]


def output_paths(inputs, output_dir):
    """{input path: output path}: PNGs named by stem, by file name where stems collide."""
    stems = {}
    for path in inputs:
        stems.setdefault(os.path.splitext(os.path.basename(path))[0], []).append(path)
    outputs = {}
    for stem, paths in stems.items():
        for path in paths:
            # x.jpg and x.png both present: x.jpg.png and x.png.png, never one x.png.
            name = stem if len(paths) == 1 else os.path.basename(path)
            outputs[path] = os.path.join(output_dir, name + OUTPUT_SUFFIX)
    return outputs


def _check_outputs(outputs, overwrite):
    """Refuses, before anything is written, to touch an input or an unexpected file."""
    inputs = {os.path.realpath(p) for p in outputs}
    for source, target in outputs.items():
        if os.path.realpath(target) in inputs:
            raise errors.ConfigError(
                f"translating {source} would overwrite the input {target}; choose another "
                "--output folder"
            )
    existing = [t for t in outputs.values() if os.path.lexists(t)]
    if existing and not overwrite:
        raise errors.ConfigError(
            f"{len(existing)} output file(s) exist already (e.g. {existing[0]}); pass "
            "--overwrite to replace them, or choose another --output folder"
        )


def _batches(paths, batch_size, skipped):
    """Yields (paths, uint8 [n, h, w, 3]) runs of consecutive readable same-size images."""
    run_paths, run_images = [], []
    for path in paths:
        try:
            image = image_files.read_image(path)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            logging.warning("Skipping %s: not a readable image (%s)", path, e)
            skipped.append((path, str(e)))
            continue
        if run_images and (image.shape != run_images[0].shape or len(run_images) == batch_size):
            yield run_paths, np.stack(run_images)
            run_paths, run_images = [], []
        run_paths.append(path)
        run_images.append(image)
    if run_images:
        yield run_paths, np.stack(run_images)


def _save_png(image, path):
    tmp = f"{path}.tmp-{os.getpid()}"
    Image.fromarray(image).save(tmp, format="PNG")
    os.replace(tmp, path)


def translate_paths(model, direction, input_path, output_dir, batch_size=8, overwrite=False):
    """Translates every image at ``input_path`` into ``output_dir`` (PNG, same stem).

    Consecutive images of one size go through the model together, up to ``batch_size``.

    Returns:
        {"translated": count, "skipped": [(path, reason), ...]}.
    """
    if batch_size < 1:
        raise errors.ConfigError(f"--batch_size={batch_size} must be at least 1")
    paths = list_images(input_path)
    outputs = output_paths(paths, output_dir)
    _check_outputs(outputs, overwrite)
    translate = load_translator(model, direction)
    os.makedirs(output_dir, exist_ok=True)
    skipped, done = [], 0
    for batch_paths, images in _batches(paths, batch_size, skipped):
        for path, out in zip(batch_paths, translate(images)):
            _save_png(out, outputs[path])
            done += 1
        print(f"\r[{done + len(skipped)}/{len(paths)}] {os.path.basename(batch_paths[-1])}",
              end="", flush=True)  # fmt: skip
    print(flush=True)
    return {"translated": done, "skipped": skipped}
