r"""Translates images or a video with a run directory, an exported SavedModel, or a .tflite.

  python -m tf_cyclegan.translate --model=runs/synthetic --direction=a2b \
      --input=photos/ --output=translated/
  python -m tf_cyclegan.translate --model=exported/h2z --input=clip.mp4 --output=zebra.mp4

--model is a run directory, an export directory, a SavedModel or a .tflite file. Any size
and the formats training reads (JPEG, PNG, BMP, GIF, PPM, TIFF, WebP; EXIF orientation
applied, 16-bit scaled, every mode made RGB); outputs keep each input's size and stem, as
PNG (x.jpg and x.png in one folder become x.jpg.png and x.png.png). Inputs are never
overwritten; existing outputs only with --overwrite. Unreadable files are skipped.

Documentation: docs/deploying.md
"""

from absl import flags

from tf_cyclegan.common import cli, precision, shared_flags
from tf_cyclegan.serving import translate_lib

_MODEL = flags.DEFINE_string("model", None, "Run dir, SavedModel dir or .tflite.", required=True)
_DIRECTION = shared_flags.define_direction("Which generator.")
_INPUT = flags.DEFINE_string(
    "input", None, "An image file, a folder of them, or a video file.", required=True
)
_OUTPUT = flags.DEFINE_string(
    "output", None, "Folder for the translated images (a video: its file or folder).", required=True
)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 8, "Images per call, where sizes match.")
_PRECISION = flags.DEFINE_enum(
    "precision",
    precision.AUTO,
    precision.PRECISIONS,
    "A run directory's compute dtype (weights stay float32). auto: bfloat16 where the "
    "hardware computes it natively (within 40 dB PSNR of float32, as the tests check), "
    "else float32. Exported models compute as they were exported.",
)
_CHECKPOINT = shared_flags.define_checkpoint(
    "A run directory's checkpoint: a prefix, or 'best' for the generators of its evaluation "
    "with the best FID; default: the newest one that restores."
)
_OVERWRITE = shared_flags.define_overwrite(
    "Replace output files that exist (inputs are never overwritten)."
)

flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    del argv  # cli.run refuses positional arguments.

    summary = translate_lib.translate_paths(
        _MODEL.value,
        _DIRECTION.value,
        _INPUT.value,
        _OUTPUT.value,
        _BATCH_SIZE.value,
        _OVERWRITE.value,
        _PRECISION.value,
        _CHECKPOINT.value,
    )
    if "video" in summary:
        clip = summary["video"]
        width, height = clip["size"]
        audio = "with its audio" if clip["audio"] else "no audio track"
        print(
            f"Translated {clip['frames']} frames ({width}x{height}, {clip['fps']:g} fps, "
            f"{audio}) to {clip['output']}."
        )
        return
    for path, reason in summary["skipped"]:
        print(f"skipped {path}: {reason}")
    print(
        f"Translated {summary['translated']} image(s) to {_OUTPUT.value}; "
        f"skipped {len(summary['skipped'])}."
    )


if __name__ == "__main__":
    cli.run(main)
