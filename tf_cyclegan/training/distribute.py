"""Choosing a ``tf.distribute`` strategy, and who writes what under it.

Multi-worker rules follow TensorFlow's guide: every worker runs the same program and saves
checkpoints (saving is a collective); the chief saves into ``model_dir`` and the others into
temporary directories that are removed afterwards. Summaries and samples are chief-only.
"""

import itertools
import re
import threading

import keras
import tensorflow as tf

from tf_cyclegan.common import errors, run_dir
from tf_cyclegan.common.config import STRATEGIES


def configure_cpu_devices(count):
    """Splits the CPU into ``count`` logical devices; call before TensorFlow runs anything.

    Idempotent: a second call with the same or a smaller count changes nothing.
    """
    if count <= 1:
        return
    cpu = tf.config.list_physical_devices("CPU")[0]
    existing = tf.config.get_logical_device_configuration(cpu)
    if existing and len(existing) >= count:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as e:
        raise RuntimeError(
            f"--num_cpu_devices={count} must be set before TensorFlow initializes its devices"
        ) from e


_MIRRORED_MADE = itertools.count()


def make_strategy(name="auto", num_cpu_devices=1):
    """Returns the strategy ``name`` (one of ``STRATEGIES``).

    ``auto`` picks MirroredStrategy when more than one GPU (or, with ``num_cpu_devices`` > 1,
    more than one logical CPU) is visible, else the default strategy. ``multi_worker`` reads
    the cluster from ``TF_CONFIG``. ``tpu`` is provided for TPU VMs and is untested.
    """
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; expected one of {STRATEGIES}")
    if name == "multi_worker":
        # Created before anything else touches the runtime, as TensorFlow requires.
        options = tf.distribute.experimental.CommunicationOptions(
            implementation=tf.distribute.experimental.CommunicationImplementation.RING
        )
        strategy = tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
        configure_cpu_devices(num_cpu_devices)
        return strategy
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu="")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    configure_cpu_devices(num_cpu_devices)
    gpus = tf.config.list_logical_devices("GPU")
    cpus = tf.config.list_logical_devices("CPU")
    if name == "mirrored" or (name == "auto" and (len(gpus) > 1 or len(cpus) > 1)):
        devices = [d.name for d in (gpus if gpus else cpus)]
        # Every MirroredStrategy of a process numbers its collectives from the same keys,
        # and the runtime remembers each key's op: a second strategy whose first collective
        # differs (a CUT run's gradient all-reduce after a CycleGAN run's pool all-gather)
        # aborts ("Collective instance 100 expected type 0 ... got type 2"). Each strategy
        # gets keys of its own (TensorFlow reads this class attribute when it builds one).
        tf.distribute.MirroredStrategy._collective_key_base = 1000 * next(_MIRRORED_MADE)
        return tf.distribute.MirroredStrategy(devices)
    return tf.distribute.get_strategy()


def apply_gradients(optimizer, gradients, variables):
    """``optimizer.apply_gradients``, skipping float16 overflow on every replica or none.

    Keras 3's ``LossScaleOptimizer`` decides whether to skip a step from each replica's own
    gradients, before the all-reduce. When one replica overflows and another does not,
    MirroredStrategy applies the overflowing sum (the weights become NaN) and
    MultiWorkerMirroredStrategy deadlocks (one worker enters the all-reduce, the other skips
    it). So, when any replica's gradients are non-finite, every replica's are made NaN: all
    skip the step and lower the loss scale together.

    Args:
        optimizer: a Keras optimizer, possibly a ``LossScaleOptimizer``.
        gradients: list of tensors (or None), one per variable, in a replica context.
        variables: list of the variables they update.
    """
    if isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
        gradients = _finite_on_every_replica_or_none(gradients)
    optimizer.apply_gradients(zip(gradients, variables))


def _finite_on_every_replica_or_none(gradients):
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return gradients
    present = [g for g in gradients if g is not None]
    finite = tf.reduce_all([tf.reduce_all(tf.math.is_finite(g)) for g in present])
    overflowing = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(~finite, tf.float32))
    poison = tf.where(overflowing > 0, float("nan"), 0.0)
    return [None if g is None else g + tf.cast(poison, g.dtype) for g in gradients]


def is_chief(strategy):
    """True for the task that writes checkpoints, summaries and samples."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


def is_multi_worker(strategy):
    """Whether ``strategy`` spans several processes (MultiWorkerMirroredStrategy)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return False
    return sum(len(tasks) for tasks in resolver.cluster_spec().as_dict().values()) > 1


_WHAT_HAPPENED = ("unhealthy", "heartbeat", "Socket closed", "Connection", "preempt", "aborted")
_TASK = re.compile(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)")


def lost_task(error, model_dir):
    """The one-line error for a collective that failed because a task of the cluster died
    (killed, preempted, out of memory): which task, and the checkpoint a rerun resumes from.

    Args:
        error: the ``tf.errors.OpError`` the step or the save raised.
        model_dir: the run directory (the chief's checkpoints).
    """
    text = str(error)
    found = _TASK.search(text)
    task = f"{found.group(1)} {found.group(2)}" if found else "a task"
    # TensorFlow's message starts "Graph execution error:" and holds a Python traceback;
    # the line that says what happened names the lost task's state.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    said = [line for line in lines if any(k in line for k in _WHAT_HAPPENED)]
    reason = (said or [type(error).__name__])[0]
    newest = run_dir.checkpoints(model_dir)
    resume = f"it resumes from {newest[0]}" if newest else "no checkpoint was saved yet"
    return errors.ClusterError(
        f"{task} of the cluster stopped ({reason[:160]}); "
        f"work since the last checkpoint is lost. Run the same command on every worker "
        f"again: {resume}"
    )


class StopAgreement:
    """Whether any worker of a MultiWorkerMirroredStrategy cluster was asked to stop.

    A preempted worker gets SIGTERM alone, with a short grace period; saving is a collective,
    so it cannot save by itself. Instead, after every step each worker contributes its own
    flag to one all-reduce: all of them learn of the request at the same step, save that
    step together and exit. TensorFlow's ``PreemptionCheckpointHandler`` agrees on a step
    through the coordination service instead; this is one scalar per step, in step order,
    with the loop's own checkpoints and exit status.

    Args:
        strategy: a MultiWorkerMirroredStrategy.
    """

    def __init__(self, strategy):
        self._strategy = strategy
        self._any = tf.function(self._sum_of_flags, autograph=False)

    def _sum_of_flags(self, requested):
        flags = self._strategy.run(tf.identity, args=(requested,))
        return self._strategy.reduce(tf.distribute.ReduceOp.SUM, flags, axis=None)

    def __call__(self, requested):
        """A collective: every worker calls it once per step. True on every worker when
        ``requested`` (bool) is True on any."""
        return float(self._any(tf.constant(float(requested)))) > 0


def checkpoint_dir(strategy, model_dir):
    """Where this task saves: ``model_dir`` for the chief, a scratch directory otherwise."""
    if is_chief(strategy):
        return model_dir
    resolver = strategy.cluster_resolver
    return run_dir.worker_scratch_dir(model_dir, resolver.task_type, resolver.task_id)


def local_cluster(workers):
    """TF_CONFIG values for ``workers`` MultiWorkerMirroredStrategy processes on this host.

    For tests and demos: each process gets one string (its task index) in ``TF_CONFIG``.
    The ports are free when chosen; another program could take one before the workers start.
    """
    import json
    import socket

    sockets = [socket.socket() for _ in range(workers)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return [
        json.dumps({"cluster": cluster, "task": {"type": "worker", "index": task}})
        for task in range(workers)
    ]


class PerReplicaFunctions:
    """Functions for the calling replica: compiled with XLA once per replica, or as given.

    Under XLA, each replica gets functions of its own, traced in its own device scope, so
    every variable they capture lives on that replica's device: one compiled function shared
    by all replicas reads replica 0's variables from replica 1's device, which XLA refuses
    ("Trying to access resource ... located in device CPU:1"). Optimizer updates aggregate
    across replicas and cannot run inside XLA (merge_call in a nested function): keep them
    out of ``functions``. A plain object, so checkpoints do not track it.

    Args:
        functions: a tuple of Python callables (gradient computations).
        jit_compile: bool, whether to compile them with XLA.
    """

    def __init__(self, functions, jit_compile):
        self._functions = tuple(functions)
        self._jit_compile = jit_compile
        self._compiled = {}
        self._lock = threading.Lock()  # Mirrored replicas trace in threads of their own.

    def get(self):
        """The functions for the replica in whose context this is called."""
        if not self._jit_compile:
            return self._functions
        context = tf.distribute.get_replica_context()
        replica = int(tf.get_static_value(context.replica_id_in_sync_group)) if context else 0
        with self._lock:
            if replica not in self._compiled:
                self._compiled[replica] = tuple(
                    tf.function(f, jit_compile=True, autograph=False) for f in self._functions
                )
            return self._compiled[replica]
