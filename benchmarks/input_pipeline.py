r"""Images/s of the input pipeline next to what the train step consumes.

  python benchmarks/input_pipeline.py --dataset=synthetic --load_size=286 --crop_size=256

A benchmark, not a test. The pipeline runs alone (as fast as it can), then one train step
of --generator at the same size is timed; the pipeline must produce far more than the step
consumes, so training never waits for data.
"""

import time

from absl import app, flags

_DATASET = flags.DEFINE_string("dataset", "synthetic", "As train's --dataset.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data directory.")
_LOAD_SIZE = flags.DEFINE_integer("load_size", 286, "Resize size.")
_CROP_SIZE = flags.DEFINE_integer("crop_size", 256, "Crop size.")
_BATCH = flags.DEFINE_integer("batch_size", 1, "Images per domain per step.")
_CACHE = flags.DEFINE_boolean("cache", False, "Decoded, resized images in memory.")
_BATCHES = flags.DEFINE_integer("batches", 300, "Batches to time.")
_GENERATOR = flags.DEFINE_string("generator", "resnet_9blocks", "For the train-step figure.")
_STEPS = flags.DEFINE_integer("steps", 2, "Train steps to time (after one warm-up).")


def main(argv):
    del argv
    import tensorflow as tf

    from tf_cyclegan.common import config as config_lib
    from tf_cyclegan.data import pipeline, sources
    from tf_cyclegan.training import cyclegan

    config = config_lib.Config(
        model=config_lib.ModelConfig(generator=_GENERATOR.value),
        data=config_lib.DataConfig(
            dataset=_DATASET.value,
            data_dir=_DATA_DIR.value,
            load_size=_LOAD_SIZE.value,
            crop_size=_CROP_SIZE.value,
            batch_size=_BATCH.value,
            cache=_CACHE.value,
        ),
    )
    builder = sources.get_builder(config.data.dataset, config.data.data_dir)
    ds = pipeline.train_dataset(builder, config.data, seed=0, global_batch_size=_BATCH.value)
    iterator = iter(ds)
    for _ in range(20):  # Warm-up: fills the cache and the prefetch buffers.
        next(iterator)
    start = time.perf_counter()
    for _ in range(_BATCHES.value):
        next(iterator)
    pipeline = 2 * _BATCHES.value * _BATCH.value / (time.perf_counter() - start)

    model = cyclegan.CycleGAN(config, steps_per_epoch=1000)
    step_iterator = iter(tf.distribute.get_strategy().experimental_distribute_dataset(ds))
    model.train_step(step_iterator)["generators/total"].numpy()
    start = time.perf_counter()
    for _ in range(_STEPS.value):
        model.train_step(step_iterator)["generators/total"].numpy()
    consumed = 2 * _STEPS.value * _BATCH.value / (time.perf_counter() - start)
    print(
        f"{_DATASET.value}, {_LOAD_SIZE.value} -> {_CROP_SIZE.value}, batch {_BATCH.value}, "
        f"cache={_CACHE.value}"
    )
    print(f"input pipeline:  {pipeline:10.1f} images/s (both domains)")
    print(f"train step uses: {consumed:10.2f} images/s ({_GENERATOR.value})")
    print(f"headroom:        {pipeline / consumed:10.0f}x")


if __name__ == "__main__":
    app.run(main)
