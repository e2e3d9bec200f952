r"""Translates images with a run directory, an exported SavedModel, or a .tflite file.

  python -m tf_cyclegan.translate --model=runs/synthetic --direction=a2b \
      --input=photos/ --output=translated/

Any size and common format (JPEG, PNG, BMP, GIF; grayscale, RGBA and palette become RGB);
outputs keep each input's size and file name (as PNG). Unreadable files are skipped with a
warning and counted.
"""

from absl import app, flags

_MODEL = flags.DEFINE_string("model", None, "Run dir, SavedModel dir or .tflite.", required=True)
_DIRECTION = flags.DEFINE_enum("direction", "a2b", ["a2b", "b2a"], "Which generator.")
_INPUT = flags.DEFINE_string("input", None, "An image file or a folder of them.", required=True)
_OUTPUT = flags.DEFINE_string("output", None, "Folder for the translated images.", required=True)
_BATCH_SIZE = flags.DEFINE_integer("batch_size", 8, "Images per call, where sizes match.")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}; every option is a --flag")
    from tf_cyclegan import translate_lib

    summary = translate_lib.translate_paths(
        _MODEL.value, _DIRECTION.value, _INPUT.value, _OUTPUT.value, _BATCH_SIZE.value
    )
    print(f"Translated {summary['translated']} image(s) to {_OUTPUT.value}; "
          f"skipped {len(summary['skipped'])}.")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
