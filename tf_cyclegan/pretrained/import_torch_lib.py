"""Official PyTorch CycleGAN generators (``.pth``) -> a run directory that export, translate
and evaluate accept. Reads no flags; needs no PyTorch."""

import dataclasses
import hashlib
import os
import shutil

import numpy as np
import tensorflow as tf

from tf_cyclegan.common import architectures, atomic_dir, conventions, errors, run_dir, writable
from tf_cyclegan.common import config as config_lib
from tf_cyclegan.networks import models, restore
from tf_cyclegan.pretrained import gan_compression, official
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
    stem = os.path.splitext(os.path.basename(path))[0]
    # The file, then its folders, innermost first: horse2zebra.pth,
    # horse2zebra_pretrained/latest_net_G.pth, cycle_gan/horse2zebra/compressed/latest_net_G.pth
    # (GAN Compression's layout), gan_compression_horse2zebra/latest_net_G.pth.
    folders = os.path.abspath(os.path.dirname(path)).split(os.sep)[::-1][:3]
    for name in [stem, *folders]:
        name = name.removesuffix("_pretrained")
        for config in configs:
            if name == config or name.endswith(f"_{config}"):
                return f"cycle_gan/{config}"
    return None


def _architecture(state, found, path, requested, use_dropout):
    """The model options of a cleaned state dict, its layout ``found``, checked against the
    ``requested`` generator (a wrong guess is one line naming the first key that differs)."""
    if requested and requested not in architectures.teacher_names():
        raise errors.ConfigError(
            f"unknown --generator={requested}; expected one of {architectures.teacher_names()}"
        )
    if requested and requested != found["generator"]:
        if requested == gan_compression.GENERATOR:
            block = next((k for k in state if k.startswith("model.10.")), next(iter(state)))
            reason = f"{block} is not a separable block's (model.10.conv_block.1.conv.0.weight)"
        elif found["generator"] == gan_compression.GENERATOR:
            ngf = int(state["model.1.weight"].shape[0])
            want = official.expected_shapes(requested, ngf) if _official(requested) else {}
            key = next((k for k in state if k not in want), next(iter(state)))
            reason = f"{key} is not a weight of an official {requested}"
        else:  # Name the first key that does not fit the requested official architecture.
            probe = models.build_generator(
                config_lib.ModelConfig(
                    generator=requested, ngf=found["ngf"], pytorch_compatible=True
                )
            )
            try:
                official.assign(probe, state, requested, found["use_dropout"])
                reason = "it fits"
            except pth.PthError as e:
                reason = str(e)
        raise errors.ConfigError(
            f"{path} holds a {found['generator']}, not --generator={requested}: {reason}"
        )
    if found["generator"] == gan_compression.GENERATOR:
        return {"generator": found["generator"], "sub_mobile_config": found["sub_mobile_config"]}
    dropout = found["use_dropout"] or (use_dropout and found["generator"].startswith("unet"))
    return {"generator": found["generator"], "ngf": found["ngf"], "use_dropout": dropout}


def _official(generator):
    return generator in architectures.GENERATORS and architectures.get(generator).official


def _read_state(path):
    """The cleaned state dict in ``path`` and its layout: every tensor's shape is checked
    against the official (or GAN Compression's) layout before any bytes are read, so a hostile
    file can make this allocate no more than the generator it claims to be."""
    with pth.open_state_dict(path) as tensors:
        tensors = official.clean(tensors)
        if gan_compression.is_sub_mobile(tensors):
            found = gan_compression.check_layout(tensors)
        else:
            found = official.check_layout(tensors)
        return pth.load(path, tensors), found


def _assign(net, state, options):
    if options["generator"] == gan_compression.GENERATOR:
        gan_compression.assign(net, state)
    else:
        official.assign(net, state, options["generator"], options["use_dropout"])


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
    writable.require_folder(cfg.model_dir, "model_dir")
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
    states, options = {}, {}
    for direction, path in sorted(cfg.checkpoints.items()):
        states[direction], found = _read_state(path)
        options[direction] = _architecture(
            states[direction], found, path, cfg.generator, cfg.use_dropout
        )
    if len({tuple(sorted(o.items())) for o in options.values()}) > 1:
        listed = ", ".join(f"{d}: {o}" for d, o in options.items())
        raise errors.ConfigError(f"the two files hold different architectures ({listed})")
    model_options = next(iter(options.values()))
    first_path = next(iter(cfg.checkpoints.values()))
    config = config_lib.Config(
        model=config_lib.ModelConfig(
            **model_options,
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
        _assign(net, state, model_options)
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
