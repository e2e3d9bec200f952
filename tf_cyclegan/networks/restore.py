"""A run directory's generators, rebuilt from its ``config.json`` and restored from one of its
checkpoints (export, translate, evaluate, distillation's teacher, the importer's check), and
another run's networks as a new run's starting point (``train --init_from``)."""

import tensorflow as tf
from tensorflow.core.protobuf import trackable_object_graph_pb2

from tf_cyclegan.common import config as config_lib
from tf_cyclegan.common import errors, run_dir
from tf_cyclegan.networks import models


def _check_checkpoint_flag(checkpoint):
    if tf.io.gfile.isdir(checkpoint):
        newest = (run_dir.checkpoints(checkpoint) or [run_dir.checkpoint_path(checkpoint, "N")])[0]
        raise errors.ConfigError(
            f"--checkpoint={checkpoint} is a folder; pass a checkpoint prefix such as {newest}, "
            "or leave --checkpoint out for the run's newest"
        )
    if not tf.io.gfile.exists(f"{checkpoint}.index"):
        raise errors.MissingError(
            f"--checkpoint={checkpoint} does not exist (expected {checkpoint}.index)"
        )


def load_generators(model_dir, checkpoint=None):
    """Builds float32 generators from ``config.json`` and restores them from a checkpoint
    (``checkpoint``: a prefix, or "best" for the run's best evaluation; else the newest that
    restores).

    Returns:
        (config, {direction: keras.Model}, checkpoint path): both directions, or the one an
        imported run holds (``ModelConfig.generator_directions``).
    """
    config = config_lib.load(model_dir)
    generators = {
        d: models.build_generator(config.model, name=run_dir.GENERATOR_KEYS[d], direction=d)
        for d in config.model.generator_directions
    }
    tree = run_dir.checkpoint_tree({run_dir.GENERATOR_KEYS[d]: g for d, g in generators.items()})

    def restore(path):
        # read(), not restore(): it neither needs nor creates a save counter, so checkpoints
        # written with write() (best/, by runs before it saved one) restore as well.
        tree.read(path).expect_partial().assert_existing_objects_matched()

    if checkpoint == run_dir.BEST:
        checkpoint = run_dir.best_checkpoint(model_dir)
    if checkpoint:
        _check_checkpoint_flag(checkpoint)
        try:
            restore(checkpoint)
        except (tf.errors.OpError, AssertionError, ValueError, IndexError) as e:
            raise errors.RunDirError(
                f"checkpoint {checkpoint} does not restore into the generators of "
                f"{model_dir}/config.json ({config.model.generator}, ngf={config.model.ngf}): "
                f"{run_dir.error_summary(e)}"
            ) from None
        path = checkpoint
    else:
        path = run_dir.restore_newest(restore, model_dir)
        if path is None:
            raise errors.RunDirError(
                f"no checkpoint in {model_dir}; train first or pass --checkpoint"
            )
    for direction, generator in generators.items():
        if not all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in generator.variables):
            raise errors.RunDirError(
                f"{path} holds non-finite weights in generator_{direction}: the run diverged; "
                "export an earlier checkpoint with --checkpoint, or retrain with a lower --lr"
            )
    return config, generators, path


def _held_networks(prefix):
    """The networks a checkpoint holds: the children of its ``model`` node."""
    reader = tf.train.load_checkpoint(prefix)
    graph = trackable_object_graph_pb2.TrackableObjectGraph()
    graph.ParseFromString(reader.get_tensor("_CHECKPOINTABLE_OBJECT_GRAPH"))
    for child in graph.nodes[0].children:
        if child.local_name == run_dir.CHECKPOINT_ROOT:
            return {c.local_name for c in graph.nodes[child.node_id].children}
    return set()


def initialize_from(networks, source_dir):
    """Sets ``networks`` to their values in the newest checkpoint of another run.

    Only reads ``source_dir``. Networks the source does not hold (an imported run has no
    discriminators, perhaps one generator) keep their initial weights.

    Args:
        networks: {checkpoint key ("generator_a2b", "discriminator_a", ...): keras.Model}.
        source_dir: a run directory (trained, distilled or made by ``import_torch``).

    Returns:
        (the checkpoint read, the keys it set).

    Raises:
        ConfigError: a network of the source has other shapes (naming the layer).
    """
    found = run_dir.checkpoints(source_dir)
    if not found:
        raise errors.RunDirError(f"--init_from={source_dir} holds no checkpoint to start from")
    prefix = found[0]
    loaded = sorted(set(networks) & _held_networks(prefix))
    tree = run_dir.checkpoint_tree({key: networks[key] for key in loaded})
    try:
        tree.restore(prefix).expect_partial().assert_existing_objects_matched()
    except (ValueError, AssertionError, tf.errors.OpError) as e:
        raise errors.ConfigError(
            f"--init_from={source_dir}: {prefix} does not fit this run's networks "
            f"({run_dir.error_summary(e)}); give this run the source's architecture options "
            "(--generator, --ngf, --ndf, channels) or leave them out to take the source's"
        ) from None
    return prefix, loaded
