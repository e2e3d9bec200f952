"""Translating image files with any of the three model forms a user may hold."""

import os

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


def load_translator(model, direction):
    """Returns a function uint8 [n, h, w, 3] -> uint8 [n, h, w, 3] for ``model``.

    Args:
        model: a training run directory (has config.json), a SavedModel directory, or a
            .tflite file (fixed or dynamic size; float32 [-1, 1] I/O).
        direction: "a2b" or "b2a".
    """
    if direction not in ("a2b", "b2a"):
        raise ValueError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
    if model.endswith(".tflite"):
        return _tflite_translator(model)
    if tf.io.gfile.exists(os.path.join(model, "saved_model.pb")):
        signature = tf.saved_model.load(model).signatures[direction]
        return lambda images: signature(images=tf.constant(images))["images"].numpy()
    if tf.io.gfile.exists(os.path.join(model, "config.json")):
        from tf_cyclegan import export_lib, models, serving

        config, generators, _ = export_lib.load_generators(model)
        translator = serving.Translator(generators, models.size_multiple(config.model.generator))
        fn = getattr(translator, direction)
        return lambda images: fn(tf.constant(images))["images"].numpy()
    raise ValueError(
        f"--model={model!r} is neither a .tflite file, a SavedModel directory, nor a "
        "training run directory (with config.json)"
    )


def _tflite_translator(path):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    index = interpreter.get_input_details()[0]["index"]
    fixed = interpreter.get_input_details()[0]["shape_signature"][1] > 0
    size = tuple(interpreter.get_input_details()[0]["shape"][1:3])

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
    """The image files at ``path`` (a file, or a folder's files in sorted order)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise FileNotFoundError(f"--input={path!r} is neither a file nor a folder")
    names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
    return [os.path.join(path, n) for n in names]


def read_rgb(path):
    """uint8 [h, w, 3] from any PIL-readable file and mode."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _batches(paths, batch_size, skipped):
    """Yields (paths, uint8 [n, h, w, 3]) runs of consecutive readable same-size images."""
    run_paths, run_images = [], []
    for path in paths:
        try:
            image = read_rgb(path)
        except (OSError, ValueError) as e:
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


def translate_paths(model, direction, input_path, output_dir, batch_size=8):
    """Translates every image at ``input_path`` into ``output_dir`` (PNG, same stem).

    Consecutive images of one size go through the model together, up to ``batch_size``.

    Returns:
        {"translated": count, "skipped": [(path, reason), ...]}.
    """
    if batch_size < 1:
        raise ValueError(f"--batch_size={batch_size} must be at least 1")
    translate = load_translator(model, direction)
    paths = list_images(input_path)
    os.makedirs(output_dir, exist_ok=True)
    skipped, done = [], 0
    for batch_paths, images in _batches(paths, batch_size, skipped):
        for path, out in zip(batch_paths, translate(images)):
            stem = os.path.splitext(os.path.basename(path))[0]
            Image.fromarray(out).save(os.path.join(output_dir, stem + ".png"))
            done += 1
        print(f"\r[{done + len(skipped)}/{len(paths)}] {os.path.basename(batch_paths[-1])}",
              end="", flush=True)  # fmt: skip
    print(flush=True)
    return {"translated": done, "skipped": skipped}
