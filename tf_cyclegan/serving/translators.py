"""One direction of any model form a user holds, as the functions translation needs.

Forms: a training run directory, an export directory, a SavedModel, a .tflite file (fixed
size, dynamic size, or tiled). Each becomes a ``Translator``; photos too large to translate
whole go through tiles (``tiling.py``) where the model has the tiled functions.
"""

import dataclasses
import os
from collections.abc import Callable

import numpy as np
import tensorflow as tf
from PIL import Image

from tf_cyclegan.common import architectures, conventions, errors, interrupts, run_dir
from tf_cyclegan.common import precision as precision_lib
from tf_cyclegan.networks import models, restore
from tf_cyclegan.serving import litert, serving_module, tiling


@dataclasses.dataclass(frozen=True)
class Translator:
    """One direction of a model.

    Attributes:
        whole: uint8 [n, h, w, c] -> uint8 [n, h, w, c'], the images translated whole.
        statistics: float32 [1, h, w, c] in [-1, 1] -> float32 [k] instance-norm
            statistics, or None where the model has no tiled form.
        tile: (float32 [1, h, w, c], statistics) -> float32 [1, h, w, c'] in [-1, 1].
        fixed_size: the model resizes every image to its own size (memory is bounded).
        budget: how much of a photo its runtime translates at once.
        channels: (c, c'): 3 for RGB, 1 for grayscale.
    """

    whole: Callable
    statistics: Callable | None = None
    tile: Callable | None = None
    fixed_size: bool = False
    budget: tiling.Budget = tiling.TENSORFLOW
    channels: tuple = (3, 3)

    def __call__(self, images):
        return interrupts.responsive(self.whole)(images)

    def prepare(self, rgb):
        """uint8 [h, w, 3] RGB -> the model's input channels (luminance for grayscale)."""
        if self.channels[0] == 3:
            return rgb
        return np.asarray(Image.fromarray(rgb).convert("L"))[..., np.newaxis]

    def translate_image(self, image, path=""):
        """uint8 [h, w, c] -> uint8 [h, w, c']: whole if small enough, else in tiles."""
        height, width = image.shape[:2]
        tiling.check_size(height, width, path)
        if height * width <= self.budget.whole_pixels or self.fixed_size:
            return self(image[np.newaxis])[0]
        if self.tile is None:
            raise errors.ConfigError(
                f"{path or 'the image'} is {width}x{height}, more than this model translates "
                f"whole ({self.budget.whole_pixels / 1e6:.1f} megapixels), and the model has "
                "no tiled form (ResNet generators with instance norm exported by this version "
                "have one); downscale the image, or pass the run or export directory"
            )
        # Each call takes seconds: in a thread, so that signals act at once (LiteRT's
        # runners are already; nesting runs inline).
        statistics, tile = interrupts.responsive(self.statistics), interrupts.responsive(self.tile)
        return tiling.translate(image, statistics, tile, self.budget)


def load(model, direction, precision="float32", checkpoint=None):
    """The ``Translator`` for ``direction`` ("a2b" or "b2a") of ``model`` (any form).

    ``precision`` is the compute dtype of a run directory's generators (one of
    ``precision.PRECISIONS``; "auto": bfloat16 where the hardware computes it natively);
    the exported forms compute in the precision they were exported in. ``checkpoint``
    picks a run directory's checkpoint (a prefix, or "best"; default the newest).
    """
    if direction not in serving_module.DIRECTIONS:
        raise errors.ConfigError(f"unknown direction {direction!r}; expected 'a2b' or 'b2a'")
    if not tf.io.gfile.exists(model):
        raise errors.MissingError(f"--model={model} does not exist")
    exported = tf.io.gfile.exists(os.path.join(model, serving_module.REPORT_FILE))
    is_run = not exported and tf.io.gfile.exists(os.path.join(model, run_dir.CONFIG_FILE))
    if precision not in (precision_lib.AUTO, precision_lib.FLOAT32) and not is_run:
        raise errors.ConfigError(
            f"--precision={precision} applies to a training run directory; --model={model} "
            "computes in the precision it was exported in (leave --precision out)"
        )
    if checkpoint and not is_run:
        raise errors.ConfigError(
            f"--checkpoint applies to a training run directory; --model={model} holds one "
            "model already (leave --checkpoint out)"
        )
    if exported:
        return _from_export(model, direction)
    if model.endswith(".tflite"):
        return _from_tflite(model, direction)
    if tf.io.gfile.exists(os.path.join(model, "saved_model.pb")):
        return _from_saved_model(model, direction)
    if tf.io.gfile.exists(os.path.join(model, run_dir.CONFIG_FILE)):
        return _from_run(model, direction, precision_lib.resolve(precision)[0], checkpoint)
    raise errors.ConfigError(
        f"--model={model!r} is neither a .tflite file, an export or SavedModel directory, "
        f"nor a training run directory (with {run_dir.CONFIG_FILE})"
    )


def _from_export(export_dir, direction):
    """An export's SavedModel, else its float .tflite files (tiled for large photos)."""
    saved_model = os.path.join(export_dir, serving_module.SAVED_MODEL)
    if tf.io.gfile.exists(os.path.join(saved_model, "saved_model.pb")):
        return _from_saved_model(saved_model, direction)
    found = {
        variant: path
        for variant in ("float32_dynamic", "float32_tiled", "float32", "float16")
        if tf.io.gfile.exists(path := os.path.join(export_dir, f"{direction}_{variant}.tflite"))
    }
    if not found:
        raise errors.ConfigError(
            f"--model={export_dir} is an export without a SavedModel or a float {direction} "
            ".tflite; export again with --formats=saved_model or pick a .tflite file"
        )
    tiled = _from_tflite(found["float32_tiled"], direction) if "float32_tiled" in found else None
    if "float32_dynamic" in found:
        whole = _from_tflite(found["float32_dynamic"], direction)
        return dataclasses.replace(
            whole, statistics=tiled and tiled.statistics, tile=tiled and tiled.tile
        )
    return tiled or _from_tflite(next(iter(found.values())), direction)


def _from_functions(functions, direction, source):
    """A Translator over TensorFlow functions: SavedModel signatures or ``serving`` methods."""
    held = [d for d in serving_module.DIRECTIONS if d in functions]
    run_dir.require_direction(held, direction, source)
    whole = functions[direction]
    concrete = whole if hasattr(whole, "structured_outputs") else whole.get_concrete_function()
    channels = (
        int(tf.nest.flatten(concrete.structured_input_signature)[0].shape[-1]),
        int(concrete.structured_outputs["images"].shape[-1]),
    )
    translator = Translator(
        lambda images: whole(images=tf.constant(images))["images"].numpy(), channels=channels
    )
    if f"{direction}_tile" not in functions:  # A U-Net, or exported before tiling existed.
        return translator
    statistics, tile = functions[f"{direction}_statistics"], functions[f"{direction}_tile"]
    return dataclasses.replace(
        translator,
        statistics=lambda x: statistics(images=tf.constant(x))["statistics"],
        tile=lambda x, s: tile(images=tf.constant(x), statistics=s)["images"].numpy(),
    )


def _from_saved_model(path, direction):
    return _from_functions(tf.saved_model.load(path).signatures, direction, path)


def _from_run(model_dir, direction, precision, checkpoint=None):
    with precision_lib.dtype_policy(precision):  # Weights stay float32 and restore alike.
        config, generators, _ = restore.load_generators(model_dir, checkpoint)
    run_dir.require_direction(generators, direction, model_dir)
    module = serving_module.ServingModule(
        generators,
        architectures.get(config.model.generator).size_multiple,
        tileable=models.tileable(config.model),
    )
    names = [direction] + [f"{direction}_{k}" for k in ("statistics", "tile") if module.tileable]
    return _from_functions({name: getattr(module, name) for name in names}, direction, model_dir)


def tflite_direction(path, names):
    """'a2b' or 'b2a' as the .tflite says (input or signature names, else file name), or None."""
    for text in (*names, os.path.basename(path)):
        found = [d for d in serving_module.DIRECTIONS if d in text]
        if len(found) == 1:
            return found[0]
    return None


def _from_tflite(path, direction):
    model = litert.TfliteModel(path)
    written_for = tflite_direction(path, [*model.signatures, model.input_name])
    if written_for not in (None, direction):
        raise errors.ConfigError(
            f"{path} translates {written_for}, but --direction={direction}; pass "
            f"--direction={written_for} or the {direction} model"
        )
    if model.tiled_direction() == direction:
        return _tiled_tflite(model)
    size = model.fixed_size

    def translate_one(image):
        height, width = image.shape[:2]
        x = _resized(image, size) if size else image  # A fixed-size model: resize in and out.
        y = conventions.to_uint8(model.run(conventions.to_float(x[np.newaxis])))[0]
        return _resized(y, (height, width)) if size else y

    return Translator(
        lambda images: np.stack([translate_one(x) for x in images]),
        fixed_size=size is not None,
        budget=tiling.LITERT,
        channels=model.channels,
    )


def _resized(image, size):
    """uint8 [h, w, c] bicubically resized to ``size`` (height, width)."""
    channels = image.shape[-1]
    picture = Image.fromarray(image[..., 0] if channels == 1 else image)
    resized = np.asarray(picture.resize(size[::-1], Image.BICUBIC))
    return resized.reshape(*size, channels)


def _tiled_tflite(model):
    """A .tflite with the statistics and tile signatures; whole images use both at once."""

    def whole(images):
        return np.stack(
            [
                conventions.to_uint8(model.translate(x)[0])
                for x in conventions.to_float(images)[:, np.newaxis]
            ]
        )

    return Translator(
        whole, model.statistics, model.tile, budget=tiling.LITERT, channels=model.channels
    )
