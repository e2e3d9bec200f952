"""Translating photos of any size in bounded memory: overlapping tiles sharing statistics.

A generator's memory grows with the image's area (a 12-megapixel photo needs over 12 GB
through the ResNet-9 generator in TensorFlow), so large images are translated tile by tile.
Instance norm couples every pixel to the whole image through its per-channel mean and
variance; plain tiling would give each tile its own colours. Instead:

1. the statistics of every instance norm are measured on a copy of the photo downscaled to
   ``Budget.whole_pixels`` (the ``*_statistics`` serving function);
2. the full-size photo is cut into overlapping windows, each translated with those fixed
   statistics (``*_tile``). With fixed statistics the generator is a convolutional network
   with a finite receptive field, so a window's centre, ``serving_module.TILE_MARGIN`` pixels from
   its cut edges, equals the same pixels of the whole photo translated with those
   statistics, and the kept centres tile the photo without seams.

The only approximation is step 1: the copy's textures are finer than the photo's, which
shifts the variances, more so the smaller the copy. Full-resolution windows sampled from the
photo were tried instead and were worse: the statistics depend on where in the photo they
come from more than on scale. ``benchmarks/large_photo.py`` measures the approximation
(PSNR against whole-image translation).
"""

import dataclasses
import math

import numpy as np
from PIL import Image

from tf_cyclegan.common import conventions, errors
from tf_cyclegan.serving import serving_module


@dataclasses.dataclass(frozen=True)
class Budget:
    """How large a piece of a photo one runtime translates at once, within ~4 GB.

    Attributes:
        whole_pixels: images up to this many pixels are translated whole; larger ones in
            tiles, with the statistics of a copy downscaled to this many pixels.
        tile_core: the kept centre of each tile, pixels a side (the tile adds
            ``serving_module.TILE_MARGIN`` on each side), a multiple of
            ``serving_module.TILE_ALIGN``.
    """

    whole_pixels: int
    tile_core: int


# LiteRT's arena holds about twice TensorFlow's memory per pixel for these generators
# (`benchmarks/large_photo.py --forms=...` prints each one's peak RSS), so it works on
# smaller pieces.
TENSORFLOW = Budget(whole_pixels=2**21, tile_core=768)
LITERT = Budget(whole_pixels=2**20, tile_core=512)
# Pillow's own limit on decoded images (decompression bombs); also the most that a uint8
# photo and its translation may hold in memory here.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS


def windows(length, core, margin=serving_module.TILE_MARGIN, align=serving_module.TILE_ALIGN):
    """Cuts one axis into overlapping windows whose kept parts tile it exactly.

    Every window starts at a multiple of ``align`` (so it sees the pixel grid the whole image
    sees through the generator's strided layers) and keeps only pixels at least ``margin``
    from its cut edges; at the image's own edges the window ends there, as the whole image
    does.

    Args:
        length: the axis length in pixels.
        core: the largest kept part of one window; a multiple of ``align``.
        margin: context pixels on each cut side; a multiple of ``align``.

    Returns:
        [(start, stop, keep_start, keep_stop)]: window [start, stop) keeps
        [keep_start, keep_stop); the kept ranges partition [0, length).
    """
    if length <= core + 2 * margin:
        return [(0, length, 0, length)]
    count = math.ceil(length / core)
    core = math.ceil(length / count / align) * align  # Even parts: no sliver of a last tile.
    size = core + 2 * margin + length % align  # length - size is then a multiple of align.
    out = []
    for keep_start in range(0, length, core):
        start = min(max(keep_start - margin, 0), length - size)
        out.append((start, start + size, keep_start, min(keep_start + core, length)))
    return out


def check_size(height, width, path=""):
    """Refuses, with what to do, an image too large to translate in bounded memory."""
    if height * width > MAX_PIXELS:
        raise errors.ConfigError(
            f"{path or 'the image'} is {width}x{height} ({height * width / 1e6:.0f} megapixels); "
            f"translate handles up to {MAX_PIXELS / 1e6:.0f}: downscale or crop it first"
        )


def downscale(image, pixels):
    """``image`` (uint8 [h, w, c]) resized to at most ``pixels`` pixels, aspect kept."""
    height, width, channels = image.shape
    scale = math.sqrt(pixels / (height * width))
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(image[..., 0] if channels == 1 else image).resize(size, Image.LANCZOS)
    return np.asarray(resized).reshape(size[1], size[0], channels)


def translate(image, statistics_fn, tile_fn, budget=TENSORFLOW):
    """Translates one image of any size through overlapping tiles.

    Args:
        image: uint8 [height, width, c] (c: the model's input channels, 3 or 1).
        statistics_fn: float32 [1, h, w, c] in [-1, 1] -> float32 [k] statistics.
        tile_fn: (float32 [1, h, w, c], statistics) -> float32 [1, h, w, c'] in [-1, 1].
        budget: the runtime's ``Budget``.

    Returns:
        uint8 [height, width, c'].
    """
    statistics = statistics_fn(
        conventions.to_float(downscale(image, budget.whole_pixels))[np.newaxis]
    )
    out = None  # The output's channels may differ from the input's: allocated at tile one.
    for top, bottom, keep_top, keep_bottom in windows(image.shape[0], budget.tile_core):
        for left, right, keep_left, keep_right in windows(image.shape[1], budget.tile_core):
            window = conventions.to_float(image[np.newaxis, top:bottom, left:right])
            y = tile_fn(window, statistics)[0]
            if out is None:
                out = np.empty((*image.shape[:2], y.shape[-1]), np.uint8)
            out[keep_top:keep_bottom, keep_left:keep_right] = conventions.to_uint8(
                y[keep_top - top : keep_bottom - top, keep_left - left : keep_right - left]
            )
    return out
