r"""Every strategy x precision x XLA cell: trains, resumes, exports. Prints a table.

  python benchmarks/strategy_matrix.py                      # all 18 cells, ~30 min on 2 cores
  python benchmarks/strategy_matrix.py --strategies=mirrored --xla=on

Each cell runs the commands a user runs, on the smoke preset (ResNet-6, ngf 8, 32 px) and the
built-in dataset: ``train`` 2 steps, the same command to 4 steps with ``--jit_compile``
flipped (which must not change the run's identity), then ``export --formats=saved_model``,
whose float32 parity check against the Keras generator (finite, >= 50 dB) must pass.
Strategies: default (one device), mirrored over 2 logical CPUs, multi_worker with 2 local
processes. "step ms" is the last logged step of the resumed run (global batch 2).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

from absl import app, flags
from common import cpu_description

_STRATEGIES = flags.DEFINE_list("strategies", "default,mirrored,multi_worker", "Strategies.")
_PRECISIONS = flags.DEFINE_list("precisions", "float32,bfloat16,float16", "Precisions.")
_XLA = flags.DEFINE_list("xla", "off,on", "XLA settings to start from.")
_TIMEOUT = flags.DEFINE_integer("timeout", 900, "Seconds per command.")
_MODEL = flags.DEFINE_enum("model", "cyclegan", ["cyclegan", "cut", "fastcut"], "What to train.")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _train(model_dir, data_dir, strategy, precision, xla, steps):
    """Runs train (2 processes for multi_worker); returns (ok, combined output)."""
    from tf_cyclegan.training import distribute

    command = [
        sys.executable,
        "-m",
        "tf_cyclegan.train",
        "--flagfile=flags/smoke.cfg",
        f"--model_dir={model_dir}",
        f"--data_dir={data_dir}",
        f"--train_steps={steps}",
        "--jit_compile" if xla else "--nojit_compile",
        f"--model={_MODEL.value}",
    ]
    if precision != "float32":
        command.append(f"--mixed_precision={precision}")
    envs = [dict(os.environ)]
    if strategy == "mirrored":
        command += ["--strategy=mirrored", "--num_cpu_devices=2", "--batch_size=1"]
    elif strategy == "multi_worker":
        command += ["--strategy=multi_worker", "--batch_size=1"]
        envs = [dict(os.environ, TF_CONFIG=c) for c in distribute.local_cluster(2)]
    processes = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for env in envs
    ]
    outputs = []
    for process in processes:
        try:
            outputs.append(process.communicate(timeout=_TIMEOUT.value)[0])
        except subprocess.TimeoutExpired:
            process.kill()
            outputs.append(process.communicate()[0] + "\n(timed out)")
    return all(p.returncode == 0 for p in processes), outputs[0]


def _step_ms(output):
    rates = re.findall(r"([\d.]+) img/s", output)
    return 2000.0 / float(rates[-1]) if rates and float(rates[-1]) > 0 else float("nan")


def _last_line(output):
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def _cell(strategy, precision, xla, data_dir):
    model_dir = tempfile.mkdtemp(prefix="matrix_") + "/run"
    ok, output = _train(model_dir, data_dir, strategy, precision, xla, 2)
    if not ok:
        return "train fails: " + _last_line(output), float("nan")
    ok, output = _train(model_dir, data_dir, strategy, precision, not xla, 4)
    if not ok:
        return "resume fails: " + _last_line(output), float("nan")
    if "Resumed from" not in output or "step 4/4" not in output:
        return "resume did not continue at step 2", float("nan")
    export = subprocess.run(
        [
            sys.executable,
            "-m",
            "tf_cyclegan.export",
            f"--model_dir={model_dir}",
            f"--export_dir={model_dir}_export",
            "--formats=saved_model",
            "--parity_images=2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT.value,
    )
    if export.returncode != 0:
        return "export fails: " + _last_line(export.stderr), _step_ms(output)
    with open(f"{model_dir}_export/export_report.json") as f:
        psnr = json.load(f)["artifacts"]["saved_model"]["psnr_db"]
    return f"ok (SavedModel {psnr} dB)", _step_ms(output)


def main(argv):
    del argv
    from tf_cyclegan.data import sources

    print(cpu_description())
    data_dir = tempfile.mkdtemp(prefix="matrix_tfds_")
    sources.get_builder("synthetic", data_dir)
    print(f"{'cell':<36}{'step ms':>9}  result")
    for strategy in _STRATEGIES.value:
        for precision in _PRECISIONS.value:
            for xla in _XLA.value:
                start = time.perf_counter()
                result, ms = _cell(strategy, precision, xla == "on", data_dir)
                name = f"{strategy} {precision} XLA {xla}->{'off' if xla == 'on' else 'on'}"
                print(
                    f"{name:<36}{ms:>9.0f}  {result} [{time.perf_counter() - start:.0f} s]",
                    flush=True,
                )


if __name__ == "__main__":
    app.run(main)
