r"""The Mobile targets: a distilled student against its teacher, on this machine.

  python -m tf_cyclegan.train --flagfile=flags/teacher_128.cfg
  python -m tf_cyclegan.distill --flagfile=flags/distill_128.cfg
  python benchmarks/mobile.py --teacher=runs/teacher_128 --student=runs/student_128

Prints, for the teacher and the student: MACs and parameters at 256x256 (flops.py's
convention), held-out PSNR against the true translation (and the untranslated baseline), the
student's PSNR against the teacher, fp16 .tflite size, LiteRT fp16 latency at 256x256 on 2
threads (interleaved in one run), and the full-int8 student's held-out PSNR next to its fp32
one; then writes input | teacher | student for the real photos in --photos as one PNG.
"""

import glob
import os
import statistics
import sys
import tempfile

import numpy as np
from absl import app, flags
from common import cpu_description
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_TEACHER = flags.DEFINE_string("teacher", None, "The teacher's run directory.", required=True)
_STUDENT = flags.DEFINE_string("student", None, "The distilled run directory.", required=True)
_PHOTOS = flags.DEFINE_string(
    "photos", os.path.join(ROOT, "..", "shared", "data", "horse2zebra_mini"), "Real photos."
)
_OUT = flags.DEFINE_string("out", None, "Where exports and the grid go (default: a temp dir).")
_SIZE = flags.DEFINE_integer("size", 256, "The latency and photo size.")
_REPEATS = flags.DEFINE_integer("repeats", 20, "Timed LiteRT runs per model and round.")


def _held_out(config, direction):
    """(images, truths) float32 in [-1, 1] of ``direction``'s test split, at the crop size."""
    from tf_cyclegan.common import conventions
    from tf_cyclegan.data import pipeline, sources

    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    channels = tuple(config.model.channels(d) for d in (direction[0], direction[-1]))
    split = conventions.SOURCE_TEST[direction]
    return pipeline.paired_test_set(builder, split, config.data.crop_size, channels)


def _psnr(x, y):
    from tf_cyclegan.evaluation import metrics

    return metrics.psnr(x, y)


def _through_size(run, images, size):
    """Runs ``run`` (float32 [1, size, size, c] -> same) on ``images`` resized to ``size``,
    and resizes the outputs back."""
    import tensorflow as tf

    height = images.shape[1]
    outputs = []
    for image in images:
        x = tf.image.resize(image[None], [size, size], "bilinear").numpy()
        outputs.append(tf.image.resize(run(x), [height, height], "area").numpy()[0])
    return np.stack(outputs)


def _export(model_dir, out, quantizations):
    from tf_cyclegan.exporting import export_lib

    report = export_lib.export(
        export_lib.ExportConfig(
            model_dir,
            out,
            formats=("tflite",),
            quantizations=quantizations,
            tflite_size=_SIZE.value,
            dynamic_tflite=False,
        )
    )
    return report


def _latencies(paths, size, repeats):
    """{name: median ms} of LiteRT on 2 threads, the models timed in alternation."""
    from tf_cyclegan.serving import litert

    image = np.random.default_rng(0).uniform(-1, 1, (size, size, 3)).astype(np.float32)
    models = {name: litert.TfliteModel(path, num_threads=2) for name, path in paths.items()}
    times = {name: [] for name in models}
    for _ in range(3):  # Rounds: both models see the same machine state.
        for name, model in models.items():
            times[name].append(model.latency_ms(image, repeats))
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv):
    del argv
    from tf_cyclegan.common import conventions
    from tf_cyclegan.networks import flops, restore
    from tf_cyclegan.serving import litert

    print(cpu_description())
    out = _OUT.value or tempfile.mkdtemp(prefix="mobile_bench_")
    teacher_config, teachers, _ = restore.load_generators(_TEACHER.value)
    student_config, students, _ = restore.load_generators(_STUDENT.value)
    size = _SIZE.value
    t_macs = flops.network_macs(next(iter(teachers.values())), size)
    s_macs = flops.network_macs(next(iter(students.values())), size)
    t_params = next(iter(teachers.values())).count_params()
    s_params = next(iter(students.values())).count_params()
    print(f"\nAt {size}x{size} (1 MAC = 2 FLOPs, transposed convolutions per input pixel):")
    print(f"  teacher {teacher_config.model.generator}: {t_macs / 1e9:.2f} GMACs, {t_params:,}")
    print(
        f"  student {student_config.model.generator}: {s_macs / 1e9:.3f} GMACs, {s_params:,} "
        f"parameters: 1/{t_macs / s_macs:.1f} of the MACs"
    )

    direction = student_config.model.generator_directions[0]
    t_dir, s_dir = os.path.join(out, "teacher"), os.path.join(out, "student")
    t_report = _export(_TEACHER.value, t_dir, ("float16",))
    s_report = _export(_STUDENT.value, s_dir, ("float32", "float16", "int8"))
    paths = {
        "teacher fp16": os.path.join(t_dir, f"{direction}_float16.tflite"),
        "student fp16": os.path.join(s_dir, f"{direction}_float16.tflite"),
    }
    del t_report
    print("\nHeld-out PSNR against the true translation (dB):")
    for d in student_config.model.generator_directions:
        images, truths = _held_out(student_config, d)
        t_out = teachers[d](images, training=False).numpy()
        s_out = students[d](images, training=False).numpy()
        print(
            f"  {d}: teacher {_psnr(t_out, truths):.2f}, student {_psnr(s_out, truths):.2f}, "
            f"untranslated {_psnr(images, truths):.2f}; student vs teacher "
            f"{_psnr(s_out, t_out):.2f}"
        )
    images, truths = _held_out(student_config, direction)
    fp32 = litert.TfliteModel(os.path.join(s_dir, f"{direction}_float32.tflite"), 2)
    int8 = litert.TfliteModel(os.path.join(s_dir, f"{direction}_int8.tflite"), 2)
    via_fp32 = _through_size(fp32.translate, images.numpy(), size)
    via_int8 = _through_size(int8.translate, images.numpy(), size)
    print(
        f"  {direction} through the .tflite at {size}x{size}: student fp32 "
        f"{_psnr(via_fp32, truths):.2f}, full int8 {_psnr(via_int8, truths):.2f} "
        f"(int8 vs fp32 outputs {_psnr(via_int8, via_fp32):.2f})"
    )

    print(f"\nLiteRT, {size}x{size}, 2 threads ({direction}):")
    latencies = _latencies(paths, size, _REPEATS.value)
    for name, path in paths.items():
        print(f"  {name}: {os.path.getsize(path) / 2**20:.2f} MB, {latencies[name]:.1f} ms")
    speedup = latencies["teacher fp16"] / latencies["student fp16"]
    print(f"  student {speedup:.1f}x faster")
    for name in ("float32", "int8"):
        path = os.path.join(s_dir, f"{direction}_{name}.tflite")
        print(f"  student {name}: {os.path.getsize(path) / 2**20:.2f} MB")
    del s_report

    photos = sorted(glob.glob(os.path.join(_PHOTOS.value, "**", "*.jp*g"), recursive=True))
    if not photos:
        print(f"\nNo photos in {_PHOTOS.value}: no grid.")
        return
    teacher_tflite, student_tflite = (litert.TfliteModel(p, 2) for p in paths.values())
    rows = []
    for path in photos:
        rgb = np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC))
        x = np.asarray(conventions.to_float(rgb[None]))
        row = [
            rgb,
            *(conventions.to_uint8(m.translate(x))[0] for m in (teacher_tflite, student_tflite)),
        ]
        rows.append(np.concatenate(row, axis=1))
    grid = os.path.join(out, f"real_photos_{direction}_input_teacher_student.png")
    Image.fromarray(np.concatenate(rows, axis=0)).save(grid)
    print(f"\n{len(photos)} real photos, input | teacher | student (fp16 LiteRT): {grid}")


if __name__ == "__main__":
    app.run(main)
