"""Translating image files with any of the model forms a user may hold.

Never overwrites an input, never lets two inputs write one output, and writes each output
through a temporary file, so an interrupted run leaves whole files only. Memory stays
bounded: a batch holds at most ``tiling.Budget.whole_pixels``, and a larger photo goes alone,
through tiles.
"""

import os
import sys

import numpy as np
import tqdm
from absl import logging
from PIL import Image

from tf_cyclegan.common import atomic_file, errors, writable
from tf_cyclegan.data import image_files
from tf_cyclegan.serving import translators, video

OUTPUT_SUFFIX = ".png"


def list_images(path):
    """The image files at ``path`` (a file, or a folder's image files in sorted order)."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise errors.MissingError(f"--input={path} does not exist")
    names = sorted(n for n in os.listdir(path) if n.lower().endswith(image_files.IMAGE_EXTENSIONS))
    return [os.path.join(path, n) for n in names]


def _nothing_to_translate(folder):
    videos = sorted(n for n in os.listdir(folder) if video.is_video(n))
    if videos:
        shown = ", ".join(videos[:3]) + (", ..." if len(videos) > 3 else "")
        return (
            f"--input={folder} holds no images but {len(videos)} video(s) ({shown}); "
            f"translate a video on its own: --input={os.path.join(folder, videos[0])}"
        )
    return f"--input={folder} holds no images ({', '.join(image_files.IMAGE_EXTENSIONS)})"


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


def _batches(paths, batch_size, max_pixels, skipped, prepare):
    """Yields (paths, uint8 [n, h, w, c]): consecutive readable same-size images, as many
    as ``batch_size`` and ``max_pixels`` allow (a large photo comes alone), each passed
    through ``prepare`` (RGB -> the model's channels)."""
    run_paths, run_images = [], []
    for path in paths:
        try:
            image = prepare(image_files.read_image(path))
        except Image.DecompressionBombError as e:  # Past tiling.MAX_PIXELS.
            logging.warning("Skipping %s: %s; downscale or crop it first", path, e)
            skipped.append((path, f"too large: {e}; downscale or crop it first"))
            continue
        except (OSError, ValueError) as e:
            logging.warning("Skipping %s: not a readable image (%s)", path, e)
            skipped.append((path, str(e)))
            continue
        full = len(run_images) == batch_size or (
            (len(run_images) + 1) * image.shape[0] * image.shape[1] > max_pixels
        )
        if run_images and (image.shape != run_images[0].shape or full):
            yield run_paths, np.stack(run_images)
            run_paths, run_images = [], []
        run_paths.append(path)
        run_images.append(image)
    if run_images:
        yield run_paths, np.stack(run_images)


def _save_png(image, path):
    """uint8 [h, w, 3] (RGB) or [h, w, 1] (grayscale), written atomically."""
    with atomic_file.replacing(path) as partial:
        Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(partial, "PNG")


def _translate_video(translator, input_path, output, batch_size, overwrite):

    def frames(batch):
        batch = np.stack([translator.prepare(f) for f in batch])
        if batch[0].shape[0] * batch[0].shape[1] * len(batch) <= translator.budget.whole_pixels:
            out = np.asarray(translator(batch))
        else:  # Large frames: whole or in tiles, one by one.
            out = np.stack([translator.translate_image(f, input_path) for f in batch])
        return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out  # Video is RGB.

    result = video.translate_video(frames, input_path, output, batch_size, overwrite)
    return {"translated": result["frames"], "skipped": [], "video": result}


def translate_paths(
    model,
    direction,
    input_path,
    output_dir,
    batch_size=8,
    overwrite=False,
    precision="float32",
    checkpoint=None,
):
    """Translates every image at ``input_path`` into ``output_dir`` (PNG, same stem).

    Consecutive images of one size go through the model together, up to ``batch_size``.
    ``precision`` and ``checkpoint`` choose a run directory's compute dtype and checkpoint
    (``translators.load``).

    Returns:
        {"translated": count, "skipped": [(path, reason), ...]}.
    """
    if batch_size < 1:
        raise errors.ConfigError(f"--batch_size={batch_size} must be at least 1")
    if os.path.isfile(input_path) and video.is_video(input_path):
        folder = output_dir if os.path.isdir(output_dir) else os.path.dirname(output_dir)
        writable.require_folder(folder or ".", "output")
        translator = translators.load(model, direction, precision, checkpoint)
        return _translate_video(translator, input_path, output_dir, batch_size, overwrite)
    paths = list_images(input_path)
    if not paths:
        raise errors.ConfigError(_nothing_to_translate(input_path))
    writable.require_folder(output_dir, "output")
    outputs = output_paths(paths, output_dir)
    _check_outputs(outputs, overwrite)
    translator = translators.load(model, direction, precision, checkpoint)
    os.makedirs(output_dir, exist_ok=True)
    print(f"Translating {len(paths)} image(s) into {output_dir}", flush=True)
    skipped, done = [], 0
    budget = translator.budget.whole_pixels
    bar = tqdm.tqdm(total=len(paths), unit="image", file=sys.stdout, disable=None)
    for batch_paths, images in _batches(paths, batch_size, budget, skipped, translator.prepare):
        if len(images) == 1:  # Possibly a large photo: whole or tiled, as its size needs.
            translated = [translator.translate_image(images[0], batch_paths[0])]
        else:
            translated = translator(images)
        for path, out in zip(batch_paths, translated):
            _save_png(out, outputs[path])
            done += 1
        bar.update(done + len(skipped) - bar.n)
    bar.close()
    return {"translated": done, "skipped": skipped}
