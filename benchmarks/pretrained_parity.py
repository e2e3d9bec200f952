r"""NEEDS PYTORCH (torch==2.13.0+cpu) next to tf_cyclegan: the full-size import against PyTorch.

  pip install torch==2.13.0+cpu --index-url https://download.pytorch.org/whl/cpu
  python benchmarks/pretrained_parity.py          # about 5 minutes on 2 cores

For ResNet-9 (ngf 64) and U-Net-256 (ngf 64) in the official layout (tools/torch_reference.py,
random weights): saves the ``.pth`` in both formats, imports each with ``import_torch``,
and prints the max abs error and PSNR of the imported Keras generator and of its exported
SavedModel against PyTorch, at 256x256 and at a non-square size, and of the ``.pth`` that
export writes back, loaded by PyTorch; then the size and LiteRT latency (2 threads,
256x256) of the imported ResNet-9 as fp16 TFLite.
"""

import os
import sys
import tempfile

import numpy as np
from absl import app
from common import cpu_description

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import torch_reference  # noqa: E402

CASES = {"resnet_9blocks": ((256, 256), (256, 384)), "unet_256": ((256, 256), (256, 512))}


def _psnr(a, b):
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(4.0 / mse)


def _row(label, actual, expected):
    error = float(np.abs(actual - expected).max())
    print(f"  {label:<44}max abs error {error:9.2e}   PSNR {_psnr(actual, expected):6.1f} dB")


def main(argv):
    del argv
    import tensorflow as tf
    import torch

    from tf_cyclegan.exporting import export_lib
    from tf_cyclegan.networks import restore
    from tf_cyclegan.pretrained import import_torch_lib
    from tf_cyclegan.serving import litert

    print(cpu_description())
    work = tempfile.mkdtemp(prefix="pretrained_parity_")
    rng = np.random.default_rng(0)
    for generator, sizes in CASES.items():
        print(f"{generator}, ngf 64:")
        net = torch_reference.build(generator, ngf=64, seed=1)
        for legacy in (False, True):
            form = "legacy" if legacy else "zip"
            path = os.path.join(work, f"{generator}_{form}.pth")
            torch.save(net.state_dict(), path, _use_new_zipfile_serialization=not legacy)
            model_dir = os.path.join(work, f"{generator}_{form}_run")
            import_torch_lib.import_checkpoints(
                import_torch_lib.ImportConfig(model_dir, {"a2b": path})
            )
            _, generators, _ = restore.load_generators(model_dir)
            for height, width in sizes:
                x = rng.uniform(-1, 1, (1, height, width, 3)).astype(np.float32)
                expected = torch_reference.translate(net, x)
                actual = generators["a2b"](x, training=False).numpy()
                _row(f"{form} .pth, Keras, {height}x{width}", actual, expected)
        export_dir = os.path.join(work, f"{generator}_export")
        quantizations = ("float16",) if generator == "resnet_9blocks" else ("float32",)
        export_lib.export(
            export_lib.ExportConfig(
                model_dir,
                export_dir,
                formats=("saved_model", "tflite", "pth"),
                quantizations=quantizations,
                dynamic_tflite=False,
            )
        )
        # The reverse: PyTorch loads the exported state dict (weights only) into its network.
        back = torch_reference.build(generator, ngf=64, seed=2)
        state = torch.load(os.path.join(export_dir, "a2b_net_G.pth"), weights_only=True)
        back.load_state_dict(state)
        x = rng.uniform(-1, 1, (1, *sizes[0], 3)).astype(np.float32)
        expected = torch_reference.translate(net, x)
        _row("exported .pth, back in PyTorch", torch_reference.translate(back, x), expected)
        loaded = tf.saved_model.load(os.path.join(export_dir, "saved_model"))
        for height, width in sizes:
            x = rng.uniform(-1, 1, (1, height, width, 3)).astype(np.float32)
            actual = loaded.signatures["a2b_float"](images=tf.constant(x))["images"].numpy()
            _row(f"SavedModel, {height}x{width}", actual, torch_reference.translate(net, x))
        if generator == "resnet_9blocks":
            path = os.path.join(export_dir, "a2b_float16.tflite")
            model = litert.TfliteModel(path, num_threads=2)
            x = rng.uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
            expected = torch_reference.translate(net, x)
            _row("fp16 TFLite in LiteRT, 256x256", model.translate(x), expected)
            print(
                f"  fp16 TFLite: {os.path.getsize(path) / 2**20:.1f} MB, LiteRT 2 threads "
                f"{model.latency_ms(x[0]):.0f} ms at 256x256"
            )


if __name__ == "__main__":
    app.run(main)
