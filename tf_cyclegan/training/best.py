"""The best checkpoint: the generators at the evaluation with the lowest FID of one direction.

GAN training does not improve monotonically (FID can rise for thousands of steps after its
minimum), and papers report the best epoch. With ``--eval_every`` and Inception weights,
training keeps the generators of the evaluation whose ``<best_direction>/fid`` was lowest in
``<model_dir>/best/`` (``run_dir.BEST_DIR``), outside the rotation of ``--max_to_keep``, and
names its step in ``best/best.json``; ``export``, ``translate`` and ``evaluate`` read it with
``--checkpoint=best`` (``run_dir.best_checkpoint``).

The generators are copied into networks outside the training strategy before they are
written, so only the chief writes and no collective is involved, under any strategy. The
checkpoint's keys are a run's (``model/generator_a2b/...``): whatever restores a run's
generators restores these.
"""

import os

from tf_cyclegan.common import precision, run_dir
from tf_cyclegan.networks import models


class BestCheckpoint:
    """Keeps the generators of the best evaluation of one run (the chief only).

    Args:
        config: the run's ``config.Config``.
        generators: {direction: the training state's keras.Model}.
    """

    def __init__(self, config, generators):
        self._config = config
        self._generators = generators
        self._directory = os.path.join(config.train.model_dir, run_dir.BEST_DIR)
        self._copies = None
        recorded = run_dir.read_best(config.train.model_dir)
        # A resumed run competes with the best of its earlier part.
        self.value = recorded["value"] if recorded else None

    def metric(self, results):
        """The name of the figure that decides (``a2b/fid``, or ``a2b/keras_fid`` with Keras'
        network), or None when ``results`` has no FID of the chosen direction."""
        direction = self._config.train.best_direction
        for name in (f"{direction}/fid", f"{direction}/keras_fid"):
            if name in results:
                return name
        return None

    def update(self, results, step):
        """Keeps the generators at ``step`` when ``results`` beats the best so far.

        Args:
            results: {metric name: float} of an evaluation at ``step``.
            step: int, the training step the generators are at.

        Returns:
            True when this step became the best.
        """
        name = self.metric(results)
        if name is None or (self.value is not None and results[name] >= self.value):
            return False
        prefix = run_dir.checkpoint_path(self._directory, step)
        self._snapshot().write(prefix)
        # The record names the new files only once they are complete; the old ones go after.
        record = {"step": step, "metric": name, "value": float(results[name])}
        record["checkpoint"] = os.path.basename(prefix)
        run_dir.write_best(self._config.train.model_dir, record)
        run_dir.remove_checkpoints(self._directory, keep=prefix)
        self.value = record["value"]
        return True

    def _snapshot(self):
        """A checkpoint of float32 copies of the generators holding their current weights."""
        if self._copies is None:
            with precision.dtype_policy(precision.FLOAT32):
                self._copies = {
                    d: models.build_generator(
                        self._config.model, name=run_dir.GENERATOR_KEYS[d], direction=d
                    )
                    for d in self._generators
                }
        for direction, generator in self._generators.items():
            # Reading a replicated variable on the host reads one replica: all are equal.
            weights = [v.numpy() for v in generator.weights]
            self._copies[direction].set_weights(weights)
        tree = run_dir.checkpoint_tree(
            {run_dir.GENERATOR_KEYS[d]: g for d, g in self._copies.items()}
        )
        # Readers restore with the run's checkpoint objects, which hold a save counter;
        # write() saves only the objects that exist, and this access creates it.
        tree.save_counter.assign(1)
        return tree


def generators_of(model):
    """{direction: keras.Model} of a training state's generators (its checkpoint keys)."""
    return {d: getattr(model, run_dir.GENERATOR_KEYS[d]) for d in model.directions}
