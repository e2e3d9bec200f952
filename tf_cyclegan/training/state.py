"""The training state interface: what ``train_lib``'s loop trains, written as code.

``cyclegan.CycleGAN`` and ``distillation.distiller.Distiller`` derive from ``TrainingState``,
which owns what both need (the global batch, loss averaging, two Adams, the step counter,
the replicated step and its XLA-compiled gradient functions) and declares what each must
provide. The attributes a subclass sets are its checkpoint keys (``run_dir.checkpoint_tree``).
"""

import abc

import keras
import tensorflow as tf

from tf_cyclegan.common import conventions, precision
from tf_cyclegan.training import distribute, schedules


def make_adam(config, steps_per_epoch):
    """Adam on the ``config.optim`` schedule; with a dynamic loss scale for float16."""
    optim = config.optim
    schedule = schedules.CycleGANSchedule(
        optim.lr,
        optim.lr_policy,
        steps_per_epoch,
        optim.epochs,
        optim.epochs_decay,
        optim.lr_decay_epochs,
    )
    adam = keras.optimizers.Adam(schedule, beta_1=optim.beta1, beta_2=optim.beta2)
    if config.train.mixed_precision == "float16":
        # float16 gradients underflow without a dynamic loss scale; bfloat16 has the range.
        return keras.optimizers.LossScaleOptimizer(adam)
    return adam


def step_counter():
    """The iteration counter of a training state: int64, one value for all replicas."""
    return tf.Variable(
        0,
        dtype=tf.int64,
        trainable=False,
        name="step",
        aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA,
    )


def replicated_step(strategy, replica_step, iterator, step):
    """Runs ``replica_step`` on the next batch on every replica and counts the step.

    Returns:
        {name: float32 sum over replicas} of what ``replica_step`` returns (per-replica
        shares of global means, so the sums are the global means).
    """
    per_replica = strategy.run(replica_step, args=(next(iterator),))
    step.assign_add(1)
    sum_ = tf.distribute.ReduceOp.SUM
    return {k: strategy.reduce(sum_, v, axis=None) for k, v in per_replica.items()}


class TrainingState(tf.Module, metaclass=abc.ABCMeta):
    """Networks, a generator and a discriminator optimizer, and a step counter, replicated.

    A subclass calls ``__init__`` first, builds its networks inside ``self.strategy.scope()``
    and ``self.dtype_policy()``, then calls ``finish_setup``. The loop uses ``train_step``,
    ``step``, ``learning_rate``, the variable lists (checked finite before every save), and
    the methods below.

    Args:
        name: the module's name.
        config: a ``config.Config``.
        steps_per_epoch: iterations per epoch, for the learning-rate schedule.
        strategy: a ``tf.distribute.Strategy``; the current one by default.
    """

    def __init__(self, name, config, steps_per_epoch, strategy=None):
        super().__init__(name=name)
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        self.global_batch_size = config.data.batch_size * self.strategy.num_replicas_in_sync
        self._steps_per_epoch = steps_per_epoch

    def dtype_policy(self):
        """The context that builds networks in the run's precision ("auto": this machine's;
        ``train_lib`` resolves it first, so that a run records what it trained in)."""
        return precision.dtype_policy(precision.resolve(self.config.train.mixed_precision)[0])

    def finish_setup(self):
        """Creates the optimizers (with their slots: Keras 3 makes them lazily, and under a
        strategy or before a restore they must exist) and the step counter, and compiles
        the gradient functions. Call once the networks exist."""
        with self.strategy.scope(), self.dtype_policy():
            self.generator_optimizer = make_adam(self.config, self._steps_per_epoch)
            self.discriminator_optimizer = make_adam(self.config, self._steps_per_epoch)
            self.step = step_counter()
            self.generator_optimizer.build(self.generator_variables)
            self.discriminator_optimizer.build(self.discriminator_variables)
        # XLA: the gradient computations, compiled once per replica; the all-reduce and the
        # updates stay outside XLA.
        self._compiled = distribute.PerReplicaFunctions(
            (self._generator_gradients, self._discriminator_gradients),
            self.config.train.jit_compile,
        )
        self.train_step = tf.function(self._train_step, autograph=False)

    @property
    def learning_rate(self):
        """float32 scalar, the generators' current learning rate."""
        return self.generator_optimizer.learning_rate

    def _train_step(self, iterator):
        """One iteration on all replicas. Returns {loss name: float32 global mean}."""
        return replicated_step(self.strategy, self._replica_step, iterator, self.step)

    def _average(self, per_example):
        """The global-batch mean of per-example values, as this replica's share."""
        return tf.nn.compute_average_loss(per_example, global_batch_size=self.global_batch_size)

    @property
    def directions(self):
        """The directions the model translates."""
        return conventions.DIRECTIONS

    def initializable_networks(self):
        """{checkpoint key: keras.Model} that ``--init_from`` may set (none by default)."""
        return {}

    @property
    @abc.abstractmethod
    def generator_variables(self):
        """The trainable variables the generator optimizer updates."""

    @property
    @abc.abstractmethod
    def discriminator_variables(self):
        """The trainable variables the discriminator optimizer updates."""

    @abc.abstractmethod
    def _generator_gradients(self, *batch):
        """Per replica: (gradients, {term: per-example loss}, total, ...) of the generators."""

    @abc.abstractmethod
    def _discriminator_gradients(self, *batch):
        """Per replica: (gradients, {term: per-example loss}, total) of the discriminators."""

    @abc.abstractmethod
    def _replica_step(self, batch):
        """One replica's update on its ``{"a": images, "b": images}`` batch; returns
        {loss name: this replica's share of the global mean}."""

    @abc.abstractmethod
    def translate(self, images, direction):
        """float32 [batch, h, w, c] in [-1, 1] -> the same, translated in ``direction``."""

    @abc.abstractmethod
    def sample_grids(self, samples_a, samples_b):
        """{direction: uint8 grid} for TensorBoard and ``samples/``."""

    def evaluation_extras(self, builder, size):
        """Metrics beyond ``evaluate_lib.evaluate``'s on the test splits: none by default."""
        del builder, size
        return {}
