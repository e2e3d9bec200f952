r"""The README's figure: held-out test horses beside the zebras two models make of them.

  python benchmarks/readme_figure.py --run=/tmp/real_photos --checkpoint=best \
      --tflite=/tmp/pretrained_deploy/export/a2b_float16.tflite --out=docs/horse2zebra.jpg

Each row: a test horse (``--images``, sorted, the first ``--count``), the translation by a
run of this package (``--run``, e.g. the 2-hour CPU preset of ``real_photos.py``), and the
translation by an exported ``.tflite`` (the phone's file of GAN Compression's model), all
at 256x256. At most 4 rows: the dataset's terms allow a figure of at most 8 translations.
"""

import os
import sys

import numpy as np
from absl import app, flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "data")

_RUN = flags.DEFINE_string("run", None, "A run directory (a2b).", required=True)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "Its checkpoint: a prefix or 'best'.")
_TFLITE = flags.DEFINE_string("tflite", None, "An a2b .tflite.", required=True)
_IMAGES = flags.DEFINE_string("images", os.path.join(SHARED, "horse2zebra", "testA"), "Photos.")
_NAMES = flags.DEFINE_list("names", None, "These files of --images (default: the first).")
_COUNT = flags.DEFINE_integer("count", 4, "Rows (at most 4).")
_OUT = flags.DEFINE_string("out", "docs/horse2zebra.jpg", "The JPEG to write.")


def main(argv):
    del argv
    sys.path.insert(0, ROOT)
    from PIL import Image

    from tf_cyclegan.common import conventions
    from tf_cyclegan.exporting import tflite_export
    from tf_cyclegan.networks import restore

    names = _NAMES.value or sorted(os.listdir(_IMAGES.value))[: min(_COUNT.value, 4)]
    photos = []
    for name in names[:4]:
        with Image.open(os.path.join(_IMAGES.value, name)) as image:
            photos.append(np.asarray(image.convert("RGB").resize((256, 256), Image.BICUBIC)))
    x = conventions.to_float(np.stack(photos))
    _, generators, path = restore.load_generators(_RUN.value, _CHECKPOINT.value)
    ours = generators["a2b"].predict(x, batch_size=4, verbose=0)
    theirs = tflite_export.run(_TFLITE.value, x)
    rows = [np.concatenate(r, axis=1) for r in zip(x, ours, theirs)]
    grid = conventions.to_uint8(np.concatenate(rows, axis=0))
    os.makedirs(os.path.dirname(os.path.abspath(_OUT.value)), exist_ok=True)
    Image.fromarray(grid).save(_OUT.value, quality=88)
    print(f"{_OUT.value}: {len(names)} rows of test photo | {path} | {_TFLITE.value}")


if __name__ == "__main__":
    app.run(main)
