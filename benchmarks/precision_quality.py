r"""Does bfloat16 train as well as float32? Held-out PSNR of the README's first run, per seed.

  python benchmarks/precision_quality.py                    # 3 seeds x 2 precisions, ~15 min
  python benchmarks/precision_quality.py --seeds=0 --precisions=float32,auto

Trains ``flags/synthetic.cfg`` (the built-in dataset; its true translations make PSNR a
ground-truth measure) once per seed and precision, as a user would (``python -m
tf_cyclegan.train``, equal steps), and prints each run's held-out PSNR a2b / b2a, its wall
time, and per precision the mean and the spread over seeds: the run-to-run noise that a
difference between precisions must exceed to mean anything.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from absl import app, flags
from common import cpu_description

_SEEDS = flags.DEFINE_list("seeds", "0,1,2", "Seeds, one run each per precision.")
_PRECISIONS = flags.DEFINE_list("precisions", "float32,auto", "--mixed_precision values.")
_PRESET = flags.DEFINE_string("preset", "flags/synthetic.cfg", "The run's preset.")
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_MARK = "Held-out evaluation: "


def _train(seed, precision, model_dir):
    """Trains one run; returns (precision it resolved to, {metric: value}, seconds)."""
    command = [
        sys.executable,
        "-m",
        "tf_cyclegan.train",
        f"--flagfile={_PRESET.value}",
        f"--model_dir={model_dir}",
        f"--seed={seed}",
        f"--mixed_precision={precision}",
    ]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    # The evaluation is printed as indented JSON after the mark, ending at the first "}".
    text = result.stdout.split(_MARK, 1)[1]
    metrics = json.loads(text[: text.index("}") + 1])
    with open(os.path.join(model_dir, "config.json")) as f:
        resolved = json.load(f)["train"]["mixed_precision"]
    return resolved, metrics, seconds


def main(argv):
    del argv
    print(f"CPU: {cpu_description()}; preset {_PRESET.value}")
    rows = {}
    for seed in _SEEDS.value:  # Interleaved, so that load changes hit both precisions.
        for precision in _PRECISIONS.value:
            model_dir = os.path.join(tempfile.mkdtemp(), "run")
            resolved, metrics, seconds = _train(seed, precision, model_dir)
            a2b, b2a = metrics["a2b/psnr"], metrics["b2a/psnr"]
            rows.setdefault(f"{precision} ({resolved})", []).append((a2b, b2a, seconds))
            print(
                f"seed {seed} {precision:>8} ({resolved}): a2b {a2b:5.2f} dB, b2a {b2a:5.2f} dB,"
                f" {seconds:5.0f} s",
                flush=True,
            )
    print(
        f"\n{'precision':24}{'a2b mean':>10}{'spread':>8}{'b2a mean':>10}{'spread':>8}{'s/run':>8}"
    )
    for name, runs in rows.items():
        a2b, b2a, seconds = zip(*runs)
        print(
            f"{name:24}{statistics.mean(a2b):10.2f}{max(a2b) - min(a2b):8.2f}"
            f"{statistics.mean(b2a):10.2f}{max(b2a) - min(b2a):8.2f}{statistics.mean(seconds):8.0f}"
        )


if __name__ == "__main__":
    app.run(main)
