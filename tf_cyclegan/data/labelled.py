"""Two domains out of any labelled TFDS image dataset: MNIST 0s <-> 1s, cats <-> dogs, ...

The dataset spec is ``tfds:<name>:<domain A>:<domain B>``; ``<name>`` is what
``tfds.builder`` takes (``mnist``, ``celeb_a``, ``name/config``, ``name@1.2.0``). A domain is
a value of the ``label`` feature (a class name or index), or ``<feature>=<value>`` for any
other class or boolean feature, nested with ``/`` (``attributes/Smiling=true``):

  --dataset=tfds:mnist:0:1
  --dataset=tfds:cats_vs_dogs:cat:dog
  --dataset=tfds:celeb_a:attributes/Eyeglasses=false:attributes/Eyeglasses=true

The source must be prepared in the run's ``--data_dir`` (TFDS downloads it when this
machine can reach TFDS's servers). The domains are then written once as a TFDS dataset of
their own with trainA/trainB/testA/testB splits: the source's ``test`` split (else
``validation``) gives the test images, or, when it has neither, the first training images
of each domain (10%, at least 1, at most 8) are held out.
"""

import dataclasses
import difflib
import hashlib

import numpy as np
import tensorflow_datasets as tfds
from absl import logging

from tf_cyclegan.common import errors, reachability
from tf_cyclegan.data import folders, prepare_once

PREFIX = "tfds:"
# TFDS downloads most datasets from their authors' servers, and many from its own mirror.
TFDS_HOST = "storage.googleapis.com"


@dataclasses.dataclass(frozen=True)
class Domain:
    """Examples whose ``feature`` (a "/"-separated path) equals ``value`` (as typed)."""

    feature: str
    value: str

    @classmethod
    def parse(cls, text):
        feature, _, value = text.rpartition("=")
        return cls(feature or "label", value)


def parse(dataset):
    """``tfds:<name>:<A>:<B>`` -> (TFDS name, Domain A, Domain B)."""
    parts = dataset.removeprefix(PREFIX).split(":")
    if len(parts) != 3 or not all(parts):
        raise errors.ConfigError(
            f"--dataset={dataset}: expected tfds:<name>:<domain A>:<domain B>, e.g. "
            "tfds:mnist:0:1 or tfds:celeb_a:attributes/Smiling=false:attributes/Smiling=true"
        )
    return parts[0], Domain.parse(parts[1]), Domain.parse(parts[2])


def _feature(features, path, dataset):
    node = features
    for part in path.split("/"):
        try:
            node = node[part]
        except (KeyError, TypeError):
            available = ", ".join(sorted(features.keys()))
            raise errors.ConfigError(
                f"--dataset={dataset}: {path!r} is not a feature (features: {available})"
            ) from None
    return node


def _resolve(domain, features, dataset):
    """(feature path, the value examples hold): a class index or a bool, however typed.

    Raises:
        ConfigError: no such feature, class, or a value the feature cannot hold.
    """
    feature = _feature(features, domain.feature, dataset)
    value = domain.value
    if isinstance(feature, tfds.features.ClassLabel):
        names = feature.names
        if value.isdigit() and int(value) < feature.num_classes:
            return domain.feature, int(value)
        if value in names:
            return domain.feature, names.index(value)
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise errors.ConfigError(
            f"--dataset={dataset}: {domain.feature} has no class {value!r} "
            f"(classes: {shown}; or an index below {feature.num_classes})"
        )
    if value.lower() in ("true", "false"):
        return domain.feature, value.lower() == "true"
    raise errors.ConfigError(
        f"--dataset={dataset}: {domain.feature}={value}: expected a class of a label "
        "feature or true/false for a boolean one"
    )


def _resolve_pair(domains, features, dataset):
    """Both domains resolved; raises ConfigError when they select the same examples."""
    resolved = [_resolve(d, features, dataset) for d in domains]
    if resolved[0] == resolved[1]:
        feature, value = resolved[0]
        raise errors.ConfigError(
            f"--dataset={dataset}: domains A and B are the same ({feature} = {value!r}); "
            "a CycleGAN translates between two different domains: name two classes or values"
        )
    return resolved


def _matcher(resolved):
    """A function example -> bool for a ``_resolve``d domain."""
    path, target = resolved

    def matches(example):
        node = example
        for part in path.split("/"):
            node = node[part]
        return bool(np.asarray(node) == target)

    return matches


class LabelledConfig(tfds.core.BuilderConfig):
    """The source dataset and the two domains; the name changes with any of them."""

    def __init__(self, *, source, source_data_dir, domains, dataset, channels, **kwargs):
        super().__init__(**kwargs)
        self.source, self.source_data_dir = source, source_data_dir
        self.domains, self.dataset, self.channels = domains, dataset, channels


class LabelledDomains(tfds.core.GeneratorBasedBuilder, skip_registration=True):
    """Two domains of a prepared labelled TFDS dataset, written as CycleGAN splits."""

    name = "tf_cyclegan_labelled_domains"
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=f"Two domains of {self.builder_config.dataset}",
            features=folders.domain_features(self.builder_config.channels),
        )

    def _split_generators(self, dl_manager):
        del dl_manager
        cfg = self.builder_config
        source = tfds.builder(cfg.source, data_dir=cfg.source_data_dir)
        resolved = _resolve_pair(cfg.domains, source.info.features, cfg.dataset)
        matchers = [_matcher(r) for r in resolved]
        test = next((s for s in ("test", "validation") if s in source.info.splits), None)
        if test is None:
            logging.warning("%s has no test split: holding out training images", cfg.source)
        return {
            f"{kind}{domain}": self._generate_examples(source, split, matcher, domain, held_out)
            for domain, matcher in zip("AB", matchers)
            for kind, split, held_out in (
                ("train", "train", False if test else "skip"),
                ("test", test or "train", None if test else "take"),
            )
        }

    def _generate_examples(self, source, split, matcher, domain, held_out):
        """Yields the matching examples of ``split``; ``held_out``: "skip"/"take" the first
        few matching ones (no test split), None: all."""
        count = sum(1 for _ in self._matching(source, "train", matcher)) if held_out else 0
        hold = min(8, max(1, count // 10))
        for index, (key, image) in enumerate(self._matching(source, split, matcher)):
            if held_out == "skip" and index < hold and count > hold:
                continue
            if held_out == "take" and index >= hold:
                break
            yield key, {"image": image, "label": domain}

    def _matching(self, source, split, matcher):
        for index, example in enumerate(tfds.as_numpy(source.as_dataset(split=split))):
            if matcher(example):
                yield f"{split}_{index}", example["image"]


def _unknown(name, error):
    """One line for TFDS' answer to an unknown name (it lists all ~450 datasets)."""
    listed = [line.strip("\t- ") for line in str(error).splitlines() if line.startswith("\t- ")]
    if not listed:  # An unknown config or version: TFDS' first line says which.
        return f"{name!r}: {str(error).splitlines()[0]}"
    close = difflib.get_close_matches(name, listed, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else "; see tfds.list_builders()"
    return f"{name!r} is not a TFDS dataset{hint}"


def builder(dataset, data_dir):
    """The prepared two-domain builder of ``tfds:<name>:<A>:<B>``, preparing it if needed.

    Raises:
        ConfigError: a malformed spec, unknown dataset, feature or class.
        DataUnavailableError: the source is not prepared and cannot be
            downloaded from here.
    """
    name, domain_a, domain_b = parse(dataset)
    try:
        source = tfds.builder(name, data_dir=data_dir)
    except Exception as e:  # noqa: BLE001 (TFDS raises several kinds for unknown names)
        raise errors.ConfigError(f"--dataset={dataset}: {_unknown(name, e)}") from None
    if not source.is_prepared():
        if not reachability.host_reachable(TFDS_HOST):
            flag = f" --data_dir={data_dir}" if data_dir else ""
            raise errors.DataUnavailableError(
                f"{name} is not prepared in {source.data_dir} and this machine cannot reach "
                f"{TFDS_HOST}. Prepare it where there is network and copy the folder here:\n"
                f"  tfds build {name}{flag}"
            )
        source = prepare_once.prepared(lambda: tfds.builder(name, data_dir=data_dir), name=name)
    _resolve_pair((domain_a, domain_b), source.info.features, dataset)  # Before any writing.
    image = source.info.features["image"] if "image" in source.info.features else None
    if not isinstance(image, tfds.features.Image):
        raise errors.ConfigError(f"--dataset={dataset}: {name} has no 'image' feature")
    digest = hashlib.sha1(f"{source.info.full_name}|{domain_a}|{domain_b}".encode())
    config = LabelledConfig(
        name=f"{name.replace('/', '_')[:40]}_{digest.hexdigest()[:12]}",
        version="1.0.0",
        source=name,
        source_data_dir=data_dir,
        domains=(domain_a, domain_b),
        dataset=dataset,
        channels=image.shape[-1],
    )
    return prepare_once.prepared(
        lambda: LabelledDomains(config=config, data_dir=data_dir), name=dataset
    )
