r"""Evaluates a run: FID and KID (both directions), cycle error, ground truth when known.

  python -m tf_cyclegan.evaluate --model_dir=runs/horse2zebra
  python -m tf_cyclegan.evaluate --model_dir=runs/synthetic --nofid

Protocol as the published CycleGAN tables with pytorch-fid: every test image resized to the
crop size, translated, and compared with all real test images of the other domain
(horse2zebra: 120 translated testA vs 140 real testB) in InceptionV3 pool features.
"""

import json
import os

from absl import app, flags

_MODEL_DIR = flags.DEFINE_string("model_dir", None, "The run to evaluate.", required=True)
_CHECKPOINT = flags.DEFINE_string("checkpoint", None, "A checkpoint prefix (default: latest).")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "Override the run's TFDS data directory.")
_INCEPTION_WEIGHTS = flags.DEFINE_string(
    "inception_weights", None, "Local InceptionV3 notop .h5 (else Keras's cache or download)."
)
_FID = flags.DEFINE_boolean("fid", True, "Compute FID and KID (needs Inception weights).")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}; every option is a --flag")
    from tf_cyclegan import data, evaluation, export_lib, inception

    config, generators, path = export_lib.load_generators(_MODEL_DIR.value, _CHECKPOINT.value)
    model = inception.load(_INCEPTION_WEIGHTS.value) if _FID.value else None
    builder = data.get_builder(config.data.dataset, _DATA_DIR.value or config.data.data_dir)
    results = evaluation.evaluate(
        lambda x, d: generators[d](x, training=False), builder, config.data.crop_size, model
    )
    out = os.path.join(_MODEL_DIR.value, "evaluation.json")
    with open(out, "w") as f:
        json.dump({"checkpoint": path, **results}, f, indent=2)
    for name, value in results.items():
        print(f"{name:<28}{value:12.4f}")
    print(f"Wrote {out}")


if __name__ == "__main__":
    app.run(main)
