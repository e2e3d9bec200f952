#!/usr/bin/env python3
r"""Translates one image with an exported tf_cyclegan model, without tf_cyclegan installed.

Needs TensorFlow (for a SavedModel) or ai-edge-litert (for a .tflite), plus Pillow.

  python export/translate_image.py --model=exported/saved_model --direction=a2b \
      --input=horse.jpg --output=zebra.png
  python export/translate_image.py --model=exported/a2b_float32_tiled.tflite \
      --input=phone_photo.jpg --output=zebra.png

Large photos go through overlapping tiles that share the statistics of a downscaled copy
(the SavedModel, or a ``*_float32_tiled.tflite``), so memory stays bounded at any size;
export/README.md describes the contract this script implements.
"""

import argparse
import math
import os
import sys

import numpy as np
from PIL import Image, ImageOps

# The tiling contract (export/README.md).
TILE_MARGIN = 96  # Context pixels around each tile's kept part.
TILE_ALIGN = 4  # Tile origins are multiples of this.
# Per runtime, within ~4 GB: (largest image translated whole, also the statistics copy's
# size; kept pixels per tile side).
TENSORFLOW = (2**21, 768)
LITERT = (2**20, 512)


def to_float(image):
    return image.astype(np.float32) / 127.5 - 1.0


def to_uint8(image):
    return np.clip(np.round((image + 1.0) * 127.5), 0, 255).astype(np.uint8)


def windows(length, core):
    """[(start, stop, keep_start, keep_stop)] along one axis; the kept parts tile it."""
    if length <= core + 2 * TILE_MARGIN:
        return [(0, length, 0, length)]
    count = math.ceil(length / core)
    core = math.ceil(length / count / TILE_ALIGN) * TILE_ALIGN
    size = core + 2 * TILE_MARGIN + length % TILE_ALIGN
    out = []
    for keep_start in range(0, length, core):
        start = min(max(keep_start - TILE_MARGIN, 0), length - size)
        out.append((start, start + size, keep_start, min(keep_start + core, length)))
    return out


def resized(image, width, height, method=Image.BICUBIC):
    """uint8 [h, w, c] (c: 3, or 1 for grayscale) resized to width x height."""
    channels = image.shape[-1]
    picture = Image.fromarray(image[..., 0] if channels == 1 else image)
    return np.asarray(picture.resize((width, height), method)).reshape(height, width, channels)


def translate_tiled(image, statistics_fn, tile_fn, budget):
    """uint8 [h, w, c] -> uint8, tile by tile with the statistics of a downscaled copy."""
    (whole_pixels, core), (height, width) = budget, image.shape[:2]
    scale = math.sqrt(whole_pixels / (height * width))
    small = image
    if scale < 1:
        small_width, small_height = max(1, round(width * scale)), max(1, round(height * scale))
        small = resized(image, small_width, small_height, Image.LANCZOS)
    statistics = statistics_fn(to_float(small)[np.newaxis])
    out = None  # Allocated at the first tile: the output's channels may differ.
    for top, bottom, keep_top, keep_bottom in windows(height, core):
        for left, right, keep_left, keep_right in windows(width, core):
            y = tile_fn(to_float(image[np.newaxis, top:bottom, left:right]), statistics)[0]
            if out is None:
                out = np.empty((height, width, y.shape[-1]), np.uint8)
            out[keep_top:keep_bottom, keep_left:keep_right] = to_uint8(
                y[keep_top - top : keep_bottom - top, keep_left - left : keep_right - left]
            )
    return out


def translate_saved_model(path, direction, image):
    import tensorflow as tf

    signatures = tf.saved_model.load(path).signatures
    large = image.shape[0] * image.shape[1] > TENSORFLOW[0]
    if large and f"{direction}_tile" in signatures:
        statistics = signatures[f"{direction}_statistics"]
        tile = signatures[f"{direction}_tile"]
        return translate_tiled(
            image,
            lambda x: statistics(images=tf.constant(x))["statistics"],
            lambda x, s: tile(images=tf.constant(x), statistics=s)["images"].numpy(),
            TENSORFLOW,
        )
    whole = signatures[direction]  # uint8 in, uint8 out.
    return whole(images=tf.constant(image[np.newaxis]))["images"][0].numpy()


def translate_tflite(path, image):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=os.cpu_count())
    tiles = [key for key in interpreter.get_signature_list() if key.endswith("_tile")]
    height, width = image.shape[:2]
    if tiles:  # A *_float32_tiled.tflite: any size.
        tile = interpreter.get_signature_runner(tiles[0])

        def stats_fn(x):  # Its own interpreter: its arena is freed before the tiles run.
            runner = Interpreter(model_path=path, num_threads=os.cpu_count()).get_signature_runner(
                tiles[0].replace("_tile", "_statistics")
            )
            return runner(images=x)["statistics"]

        tile_fn = lambda x, s: tile(images=x, statistics=s)["images"]  # noqa: E731
        if height * width > LITERT[0]:
            return translate_tiled(image, stats_fn, tile_fn, LITERT)
        x = to_float(image[np.newaxis])
        return to_uint8(tile_fn(x, stats_fn(x))[0])
    detail = interpreter.get_input_details()[0]
    fixed = detail["shape_signature"][1] > 0
    if not fixed and height * width > LITERT[0]:
        fail(
            f"the image is {width}x{height}; above {LITERT[0] / 1e6:.1f} "
            "megapixels use the *_float32_tiled.tflite or the SavedModel (tiles)"
        )
    x = image
    if fixed:  # Fixed size: resize in, and back out below.
        x = resized(image, int(detail["shape"][2]), int(detail["shape"][1]))
    interpreter.resize_tensor_input(detail["index"], [1, *x.shape])  # Before allocating.
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], to_float(x[np.newaxis]))
    interpreter.invoke()
    y = to_uint8(interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0])
    return resized(y, width, height)


def input_channels(model, direction):
    """3 (RGB) or 1 (grayscale): what the model's input holds."""
    if model.endswith(".tflite"):
        from ai_edge_litert.interpreter import Interpreter

        return int(Interpreter(model_path=model).get_input_details()[0]["shape_signature"][-1])
    import tensorflow as tf

    signature = tf.saved_model.load(model).signatures[direction]
    return int(signature.structured_input_signature[1]["images"].shape[-1])


def fail(message):
    """One line on stderr and exit status 2, as the tf_cyclegan commands do."""
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def check_paths(args):
    """What is wrong with the paths given, in a sentence, or None."""
    if not os.path.exists(args.model):
        return f"--model={args.model} does not exist; pass a .tflite file or a SavedModel folder"
    if not os.path.isfile(args.input):
        return f"--input={args.input} is not a file; pass an image"
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        return f"--output={args.output}: its folder {folder} does not exist; create it first"
    if not os.access(folder, os.W_OK) or os.path.isdir(args.output):
        return f"--output={args.output} cannot be written; name a file in a folder you can write"
    return None


def main():
    # TensorFlow's C++ notices (CPU features, oneDNN) are not the user's to act on; this
    # script never imports tf_cyclegan, which sets the same.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="SavedModel folder or .tflite file")
    parser.add_argument(
        "--direction",
        default="a2b",
        choices=["a2b", "b2a"],
        help="SavedModel only; a .tflite file holds one direction",
    )
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    problem = check_paths(args)
    if problem:
        fail(problem)
    channels = input_channels(args.model, args.direction)
    try:
        with Image.open(args.input) as f:
            upright = ImageOps.exif_transpose(f)  # As the user sees it.
            image = np.asarray(upright.convert("L" if channels == 1 else "RGB"))
    except (OSError, ValueError) as e:  # Pillow's UnidentifiedImageError is an OSError.
        fail(f"--input={args.input} is not an image Pillow reads ({e})")
    image = image.reshape(*image.shape[:2], channels)
    if args.model.endswith(".tflite"):
        out = translate_tflite(args.model, image)
    else:
        out = translate_saved_model(args.model, args.direction, image)
    Image.fromarray(out[..., 0] if out.shape[-1] == 1 else out).save(args.output)
    print(f"{args.input} ({image.shape[1]}x{image.shape[0]}) -> {args.output}")


if __name__ == "__main__":
    main()
