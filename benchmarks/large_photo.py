r"""Large photos: tiled translation's quality against whole-image translation, and its cost.

  python benchmarks/large_photo.py --model=runs/horse2zebra --photo=photo.jpg

Quality: the photo resized to --quality_size (small enough to translate whole here), then
translated whole and tiled with each runtime's budget; PSNR of tiled against whole (the
only difference is the statistics of a downscaled copy). Cost: peak RSS and wall time of
``python -m tf_cyclegan.translate`` on the photo at full size, measured with
``/usr/bin/time -v``, for every --forms entry (a run dir, export dir or .tflite).
"""

import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import app, flags
from PIL import Image

from tf_cyclegan.data import image_files
from tf_cyclegan.serving import tiling, translators

_MODEL = flags.DEFINE_string("model", None, "Run or export dir for quality.", required=True)
_PHOTO = flags.DEFINE_string("photo", None, "A photo (ideally 12 megapixels).", required=True)
_QUALITY_SIZE = flags.DEFINE_list("quality_size", ["2048", "1536"], "Width,height.")
_FORMS = flags.DEFINE_list("forms", [], "Models to time on the full photo (translate CLI).")


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def quality(model, photo, size):
    image = np.asarray(Image.fromarray(photo).resize(size, Image.LANCZOS))
    translator = translators.load(model, "a2b")
    whole = translator.whole(image[np.newaxis])[0]
    for name, budget in (("tensorflow", tiling.TENSORFLOW), ("litert", tiling.LITERT)):
        start = time.perf_counter()
        tiled = tiling.translate(image, translator.statistics, translator.tile, budget)
        seconds = time.perf_counter() - start
        print(
            f"  {name:10s} budget {budget}: tiled vs whole at {size[0]}x{size[1]}: "
            f"PSNR {_psnr(tiled, whole):.2f} dB ({seconds:.0f} s)"
        )


def cost(model, photo_path):
    out = tempfile.mkdtemp()
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "tf_cyclegan.translate",
        f"--model={model}",
        f"--input={photo_path}",
        f"--output={out}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", result.stderr)
    print(
        f"  {model}: exit {result.returncode}, peak RSS "
        f"{int(rss.group(1)) / 2**20:.2f} GiB, wall {wall.group(1)}"
    )


def _cpu():
    try:
        with open("/proc/cpuinfo") as f:
            return re.search(r"model name\s*: (.*)", f.read()).group(1)
    except (OSError, AttributeError):
        return platform.processor() or platform.machine()


def main(argv):
    del argv
    print(f"CPU: {_cpu()}, {os.cpu_count()} cores")
    photo = image_files.read_image(_PHOTO.value)
    print(f"Photo {_PHOTO.value}: {photo.shape[1]}x{photo.shape[0]}")
    print("Quality (tiled against whole-image translation):")
    quality(_MODEL.value, photo, tuple(int(v) for v in _QUALITY_SIZE.value))
    if _FORMS.value:
        print("Cost of translating the full photo:")
    for model in _FORMS.value:
        cost(model, _PHOTO.value)


if __name__ == "__main__":
    app.run(main)
