r"""Images/s of the train step: 1 vs 2 logical CPU devices, XLA off/on, mixed precision off/on.

  python benchmarks/scale_out.py --size=128 --steps=4 --json=/tmp/scale_out.json

A benchmark, not a test: it prints a table of medians after warm-up. Splitting one CPU into
logical devices shares the same cores, so it measures overhead, not speed-up; on a machine
with several GPUs, --strategy=auto uses them all.
"""

import json
import statistics
import time

from absl import app, flags

_SIZE = flags.DEFINE_integer("size", 128, "Crop size in pixels.")
_GENERATOR = flags.DEFINE_string("generator", "resnet_9blocks", "Generator.")
_NGF = flags.DEFINE_integer("ngf", 64, "Generator width.")
_BATCH = flags.DEFINE_integer("batch", 2, "Global batch per domain.")
_STEPS = flags.DEFINE_integer("steps", 4, "Timed steps per configuration (after 2 warm-up).")
_JSON = flags.DEFINE_string("json", None, "Also write the results here.")

CONFIGS = (
    ("1 device", dict(devices=1)),
    ("2 logical CPU devices", dict(devices=2)),
    ("1 device + XLA", dict(devices=1, jit_compile=True)),
    ("1 device + bfloat16", dict(devices=1, mixed_precision="bfloat16")),
    ("1 device + float16", dict(devices=1, mixed_precision="float16")),
)


def _measure(devices, jit_compile=False, mixed_precision=None):
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.training import cyclegan, distribute

    strategy = distribute.make_strategy("mirrored" if devices > 1 else "default", devices)
    replicas = strategy.num_replicas_in_sync
    size, batch = _SIZE.value, _BATCH.value
    config = config_lib.Config(
        model=config_lib.ModelConfig(generator=_GENERATOR.value, ngf=_NGF.value),
        data=config_lib.DataConfig(crop_size=size, load_size=size, batch_size=batch // replicas),
        train=config_lib.TrainConfig(jit_compile=jit_compile, mixed_precision=mixed_precision),
    )
    model = cyclegan.CycleGAN(config, steps_per_epoch=1000, strategy=strategy)
    images = tf.random.stateless_uniform([2, batch, size, size, 3], [1, 2], -1.0, 1.0)
    ds = tf.data.Dataset.from_tensors({"a": images[0], "b": images[1]}).repeat()
    iterator = iter(strategy.experimental_distribute_dataset(ds))
    for _ in range(2):
        model.train_step(iterator)["generators/total"].numpy()
    times = []
    for _ in range(_STEPS.value):
        start = time.perf_counter()
        model.train_step(iterator)["generators/total"].numpy()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    return {"ms_per_step": 1000 * seconds, "images_per_second": batch / seconds}


def main(argv):
    del argv
    from tf_cyclegan.training import distribute

    distribute.configure_cpu_devices(2)  # Before TensorFlow starts; 1-device runs use cpu:0.
    results = {}
    print(
        f"{_GENERATOR.value} ngf={_NGF.value}, {_SIZE.value}x{_SIZE.value}, global batch "
        f"{_BATCH.value} per domain, median of {_STEPS.value} steps"
    )
    print(f"{'configuration':<26}{'ms/step':>10}{'images/s':>10}")
    for name, kwargs in CONFIGS:
        results[name] = _measure(**kwargs)
        r = results[name]
        print(f"{name:<26}{r['ms_per_step']:>10.0f}{r['images_per_second']:>10.2f}", flush=True)
    if _JSON.value:
        with open(_JSON.value, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    app.run(main)
