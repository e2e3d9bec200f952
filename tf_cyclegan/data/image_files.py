"""Finding, checking and normalizing image files, as users and archives have them."""

import os

import numpy as np
from absl import logging
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".tif", ".tiff", ".webp")
# Files that archives and file browsers leave behind; never images, never warned about.
STRAY_NAMES = (".ds_store", "thumbs.db", "desktop.ini")
# Longer sides above this are downscaled when preparing, so 6000x4000 photos never reach
# the training pipeline at full size (training resizes to --load_size anyway).
MAX_SIDE = 2048


def list_files(folder):
    """Image-named files below ``folder`` (recursive, sorted), skipping strays and __MACOSX.

    Returns:
        (image paths, other paths): the second list holds files that are not named like
        images, which callers report.
    """
    images, others = [], []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__MACOSX" and not d.startswith("."))
        for name in sorted(files):
            if name.lower() in STRAY_NAMES or name.startswith("._"):
                continue
            path = os.path.join(root, name)
            (images if name.lower().endswith(IMAGE_EXTENSIONS) else others).append(path)
    return images, others


# PIL modes holding 16-bit samples (PNG, TIFF); "I" is how older Pillow opens them.
_WIDE_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
_EXIF_ORIENTATION = 0x0112


def _to_rgb(image):
    """Any PIL mode -> RGB as a person sees it: 16-bit samples scaled, not clipped."""
    if image.mode in _WIDE_MODES:
        values = np.asarray(image, dtype=np.float64)
        peak = max(65535.0, float(values.max()))  # A true 32-bit "I" image is rescaled too.
        gray = np.clip(np.round(values * (255.0 / peak)), 0, 255).astype(np.uint8)
        return Image.fromarray(gray, "L").convert("RGB")
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        gray = np.clip(np.round(values * 255.0 if values.max() <= 1.0 else values), 0, 255)
        return Image.fromarray(gray.astype(np.uint8), "L").convert("RGB")
    return image.convert("RGB")  # Grayscale, palette, RGBA, CMYK: all become RGB.


def _orientation(image):
    try:
        return image.getexif().get(_EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError):  # A damaged EXIF block: ignore it.
        return 1


def read_image(path, max_side=None, upright=True):
    """Decodes any PIL-readable image fully, as a person sees it: uint8 RGB [h, w, 3].

    EXIF orientation is applied (a portrait photo stays upright; ``upright=False`` leaves
    the stored orientation, as pytorch-fid reads images), 16-bit samples are scaled to 8
    bits, every mode becomes RGB, and with ``max_side`` the longer side is downscaled to at
    most that.

    Raises:
        OSError, ValueError: missing, zero-byte, truncated, corrupt or non-image files.
    """
    if os.path.getsize(path) == 0:
        raise ValueError("empty file")
    with Image.open(path) as image:
        if max_side and max(image.size) > max_side:
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at reduced scale.
        image.load()  # Forces a full decode: truncated files fail here, not mid-epoch.
        image = _to_rgb(ImageOps.exif_transpose(image) if upright else image)
        if max_side and max(image.size) > max_side:
            scale = max_side / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.BICUBIC)
        return np.asarray(image)


def load_rgb(path, max_side=MAX_SIDE):
    """``read_image`` with the preparation cap on the longer side."""
    return read_image(path, max_side)


def needs_conversion(path, max_side=MAX_SIDE):
    """False when the file can be stored as it is: an upright RGB JPEG or PNG, fine size."""
    with Image.open(path) as image:
        return (
            image.format not in ("JPEG", "PNG")
            or image.mode != "RGB"
            or max(image.size) > max_side
            or _orientation(image) != 1  # TFDS would decode it without turning it.
        )


def iter_checked(folder, what, skipped):
    """Yields (path, example) for each readable image below ``folder``, in order.

    The example is the path itself when the file can be stored unchanged, else a uint8
    [h, w, 3] RGB array. Unreadable files are warned about by name and appended to
    ``skipped`` as (path, reason); nothing is held in memory beyond one image.

    Args:
        what: a label for messages, e.g. "trainA".
        skipped: a list to append to.
    """
    paths, others = list_files(folder)
    for path in others:
        logging.warning("%s: skipping %s (not an image file name)", what, path)
        skipped.append((path, "not an image file name"))
    for path in paths:
        try:
            image = load_rgb(path)  # Full decode: proves the file is whole.
            yield path, (image if needs_conversion(path) else path)
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            reason = f"{type(e).__name__}: {e}"
            logging.warning("%s: skipping %s (%s)", what, path, reason)
            skipped.append((path, reason))
