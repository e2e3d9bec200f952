r"""Video translation speed: frames/s of ``translate --input=clip.mp4`` per model form.

  python benchmarks/video.py          # a few minutes on 2 cores

A random-weight ResNet-9 (ngf 64) in the official layout, exported as a SavedModel and as
TFLite (fp16 at 256x256, frames resized in and out; float32 at any size), translates a
256x256 and a 640x360 test clip (48 frames, 24 fps, made by the bundled ffmpeg); frames/s
covers decoding, the model and encoding.
"""

import os
import subprocess
import tempfile
import time

from absl import app
from common import cpu_description

CLIPS = {"256x256": (256, 256), "640x360": (640, 360)}
FRAMES, FPS = 48, 24


def _run_dir(work):
    """A ResNet-9 run directory with random weights, through the .pth import."""
    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.networks import models
    from tf_cyclegan.pretrained import import_torch_lib, official
    from tf_cyclegan.torch_files import pth_writer

    model_config = config_lib.ModelConfig(pytorch_compatible=True)
    net = models.build_generator(model_config, seed=1)
    path = os.path.join(work, "resnet9.pth")
    pth_writer.save_state_dict(official.state_dict(net, model_config.generator), path)
    model_dir = os.path.join(work, "run")
    import_torch_lib.import_checkpoints(import_torch_lib.ImportConfig(model_dir, {"a2b": path}))
    return model_dir


def main(argv):
    del argv
    import imageio_ffmpeg

    from tf_cyclegan.exporting import export_lib
    from tf_cyclegan.serving import translate_lib

    print(cpu_description())
    work = tempfile.mkdtemp(prefix="video_benchmark_")
    model_dir = _run_dir(work)
    export_dir = os.path.join(work, "export")
    export_lib.export(
        export_lib.ExportConfig(
            model_dir, export_dir, quantizations=("float16",), dynamic_tflite=True
        )
    )
    forms = {
        "SavedModel": os.path.join(export_dir, "saved_model"),
        "fp16 TFLite (256x256; frames resized)": os.path.join(export_dir, "a2b_float16.tflite"),
        "fp32 TFLite (any size)": os.path.join(export_dir, "a2b_float32_dynamic.tflite"),
    }
    for name, (width, height) in CLIPS.items():
        clip = os.path.join(work, f"{name}.mp4")
        source = f"testsrc=size={width}x{height}:rate={FPS}"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "lavfi"]
        command += ["-i", source, "-frames:v", str(FRAMES), "-pix_fmt", "yuv420p", clip]
        subprocess.run(command, check=True)
        for index, (form, model) in enumerate(forms.items()):
            out = os.path.join(work, f"{name}_{index}.mp4")
            start = time.perf_counter()
            summary = translate_lib.translate_paths(model, "a2b", clip, out, batch_size=4)
            rate = summary["translated"] / (time.perf_counter() - start)
            print(f"{name:>8}  {form:<38}{rate:6.2f} frames/s", flush=True)


if __name__ == "__main__":
    app.run(main)
