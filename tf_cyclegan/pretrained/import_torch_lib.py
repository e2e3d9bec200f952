"""Official PyTorch CycleGAN generators (``.pth``) -> a run directory that export, translate
and evaluate accept. Reads no flags; needs no PyTorch."""

import dataclasses
import hashlib
import os
import shutil

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import atomic_dir, conventions, errors, run_dir
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import models, restore
from tf_cyclegan.pretrained import official
from tf_cyclegan.torch_files import pth


@dataclasses.dataclass(frozen=True)
class ImportConfig:
    """What to import and where.

    Attributes:
        model_dir: the run directory to create; it must not exist.
        checkpoints: {"a2b" or "b2a": path to an official generator's ``.pth``}.
        generator: the architecture the files must have; None: inferred from their keys.
        use_dropout: for a U-Net, whether it was trained with dropout (its keys cannot
            tell); recorded in the config, it does not change inference.
        dataset, data_dir: the run's dataset (evaluate's test images); None: the one the
            file names (``horse2zebra.pth``, ``horse2zebra_pretrained/latest_net_G.pth``)
            when it is a ``cycle_gan/`` dataset, else the built-in one.
        crop_size: the run's image size (the official models: 256).
    """

    model_dir: str
    checkpoints: dict
    generator: str | None = None
    use_dropout: bool = False
    dataset: str | None = None
    data_dir: str | None = None
    crop_size: int = config_lib.DataConfig.crop_size


def _dataset_named_by(path):
    import tensorflow_datasets as tfds

    configs = set(tfds.builder_cls("cycle_gan").builder_configs)
    parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
    stem = os.path.splitext(os.path.basename(path))[0]
    for name in (stem, parent.removesuffix("_pretrained")):
        if name in configs:
            return f"cycle_gan/{name}"
    return None


def _architecture(state, path, requested, use_dropout):
    """(generator, ngf, use_dropout) of a cleaned state dict, checked against ``requested``."""
    found = official.infer(state)
    if requested and requested != found["generator"]:
        # Name the first key that does not fit the requested architecture.
        probe = models.build_generator(
            config_lib.ModelConfig(generator=requested, ngf=found["ngf"], pytorch_compatible=True)
        )
        try:
            official.assign(probe, state, requested, found["use_dropout"])
        except pth.PthError as e:
            raise errors.ConfigError(
                f"{path} holds a {found['generator']}, not --generator={requested}: {e}"
            ) from None
    dropout = found["use_dropout"] or (use_dropout and found["generator"].startswith("unet"))
    return found["generator"], found["ngf"], dropout


def _read_official(path):
    """The cleaned official state dict in ``path``: every tensor's shape is checked against
    the official layout before any bytes are read, so a hostile file can make this allocate
    no more than the generator it claims to be."""
    with pth.open_state_dict(path) as tensors:
        tensors = official.clean(tensors)
        official.check_layout(tensors)
        return pth.load(path, tensors)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(cfg):
    if not cfg.checkpoints:
        raise errors.ConfigError(
            "nothing to import: pass --checkpoint with --direction, or --checkpoint_a2b "
            "and/or --checkpoint_b2a"
        )
    for direction, path in cfg.checkpoints.items():
        if direction not in conventions.DIRECTIONS:
            raise errors.ConfigError(f"unknown direction {direction!r}")
        if os.path.isdir(path):
            raise errors.ConfigError(
                f"--checkpoint={path} is a folder; pass the .pth file in it (e.g. latest_net_G.pth)"
            )
        if not os.path.isfile(path):
            raise errors.MissingError(f"--checkpoint={path} does not exist")
    if tf.io.gfile.exists(cfg.model_dir):
        raise errors.ConfigError(
            f"--model_dir={cfg.model_dir} exists; import writes a new run directory only: "
            "choose a path that does not exist"
        )


def import_checkpoints(cfg):
    """Writes ``cfg.model_dir``: config.json, one checkpoint, the import record.

    Returns:
        {"config": config.Config, "directions": {direction: {"file", "sha256"}}}.

    Raises:
        ConfigError, MissingError, pth.PthError: one line naming the file or key.
    """
    _check(cfg)
    states, architectures = {}, {}
    for direction, path in sorted(cfg.checkpoints.items()):
        states[direction] = _read_official(path)
        architectures[direction] = _architecture(
            states[direction], path, cfg.generator, cfg.use_dropout
        )
    if len(set(architectures.values())) > 1:
        listed = ", ".join(f"{d}: {a[0]} ngf {a[1]}" for d, a in architectures.items())
        raise errors.ConfigError(f"the two files hold different architectures ({listed})")
    generator, ngf, dropout = next(iter(architectures.values()))
    first_path = next(iter(cfg.checkpoints.values()))
    config = config_lib.Config(
        model=config_lib.ModelConfig(
            generator=generator,
            ngf=ngf,
            use_dropout=dropout,
            pytorch_compatible=True,
            directions=",".join(d for d in conventions.DIRECTIONS if d in cfg.checkpoints),
        ),
        data=config_lib.DataConfig(
            dataset=cfg.dataset or _dataset_named_by(first_path) or "synthetic",
            data_dir=cfg.data_dir,
            load_size=cfg.crop_size,
            crop_size=cfg.crop_size,
        ),
        train=config_lib.TrainConfig(model_dir=cfg.model_dir),
    )
    keras_generators = {}
    for direction, state in states.items():
        net = models.build_generator(
            config.model, name=run_dir.GENERATOR_KEYS[direction], direction=direction
        )
        official.assign(net, state, generator, dropout)
        keras_generators[direction] = net
    record = {
        d: {"file": os.path.abspath(p), "sha256": _sha256(p)} for d, p in cfg.checkpoints.items()
    }
    _write(cfg.model_dir, config, keras_generators, record)
    return {"config": config, "directions": record}


def _write(model_dir, config, keras_generators, record):
    """Writes and checks the run in a staging folder, then renames it into place; a failure
    leaves nothing behind. (Non-local paths are written in place.)"""
    local = run_dir.is_local(model_dir)
    target = atomic_dir.make_staging(model_dir) if local else model_dir
    try:
        root = run_dir.checkpoint_tree(
            {run_dir.GENERATOR_KEYS[d]: g for d, g in keras_generators.items()}
        )
        root.save(os.path.join(target, run_dir.CHECKPOINT_PREFIX))
        run_dir.write_json(os.path.join(target, run_dir.IMPORT_FILE), record)
        # config.json last: its presence marks a complete run directory.
        config_lib.save(config, target)
        _verify(target, keras_generators)
        if local:
            os.chmod(target, 0o755)  # mkdtemp makes it private; a run dir is not.
            os.rename(target, model_dir)
    except BaseException:
        if local and os.path.isdir(target):
            shutil.rmtree(target)
        raise


def _verify(model_dir, keras_generators):
    """The written run must reproduce the imported generators exactly."""
    _, restored, _ = restore.load_generators(model_dir)
    x = np.random.default_rng(0).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    for direction, net in keras_generators.items():
        if not np.array_equal(net(x, training=False), restored[direction](x, training=False)):
            raise errors.RunDirError(f"{model_dir}: the written {direction} generator differs")
