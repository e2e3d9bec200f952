"""The one registry of generator architectures: what ``--generator`` may name.

Config choices, the network builders (``networks.models``, ``networks.students``), the
student presets and the PyTorch importer (``pretrained.official``) all read it; adding an
architecture is one entry here plus, for a new family, its builder.
"""

import dataclasses

from tf_cyclegan.common import errors

MIN_SIZE = 8  # Below this, instance norm after the downsamplings sees too few pixels.


@dataclasses.dataclass(frozen=True)
class Generator:
    """One generator architecture.

    Attributes:
        name: the ``--generator`` value.
        family: "resnet" (Johnson et al.), "unet" (pix2pix), "student" (phone size) or
            "sub_mobile" (GAN Compression's compressed ResNets, widths from
            ``--sub_mobile_config``).
        depth: residual blocks (resnet, student) or U-Net levels (unet).
        size_multiple: image sides must be multiples of it (the downsamplings), and at
            least ``MIN_SIZE``.
        receptive_radius: input pixels an output pixel sees with fixed norm statistics,
            which tiling needs; None where it is the whole image (U-Net) or unmeasured.
        width: a student's full-resolution filters (teachers take ``--ngf``).
        expansion: a student's inverted-residual expansion factor.
        example_config: a sub_mobile generator's widths where none are given (the size
            table): GAN Compression's published horse2zebra model's.
    """

    name: str
    family: str
    depth: int
    size_multiple: int
    receptive_radius: int | None = None
    width: int | None = None
    expansion: int = 2
    example_config: str | None = None

    @property
    def is_student(self):
        return self.family == "student"

    @property
    def official(self):
        """Whether the official PyTorch code has this architecture (import and .pth export)."""
        return self.family in ("resnet", "unet")


# Receptive radii are measured by networks_test (tiling); the U-Nets' innermost layer sees
# the whole image.
GENERATORS = {
    g.name: g
    for g in (
        Generator("resnet_9blocks", "resnet", 9, 4, receptive_radius=83),
        Generator("resnet_6blocks", "resnet", 6, 4, receptive_radius=59),
        Generator("unet_128", "unet", 7, 128),
        Generator("unet_256", "unet", 8, 256),
        Generator("mobile_s", "student", 6, 4, width=16),
        Generator("mobile_m", "student", 9, 4, width=20),
        Generator(
            "sub_mobile_resnet_9blocks",
            "sub_mobile",
            9,
            4,
            receptive_radius=83,
            example_config="16_16_32_16_32_32_16_16",
        ),
    )
}


def names():
    """Every registered generator's name, read now (not when a module was imported)."""
    return tuple(GENERATORS)


def teacher_names():
    """The generators ``train`` and ``import_torch`` take (all but the students)."""
    return tuple(n for n, g in GENERATORS.items() if not g.is_student)


def student_names():
    """The phone-size students ``distill`` trains."""
    return tuple(n for n, g in GENERATORS.items() if g.is_student)


def register(*generators):
    """Adds ``Generator`` entries (tests, extensions). Options are checked against the
    registry when a configuration is validated, so this may come at any time before that."""
    GENERATORS.update({g.name: g for g in generators})


@dataclasses.dataclass(frozen=True)
class SubMobileWidths:
    """A ``sub_mobile`` generator's layer widths, from GAN Compression's config string
    (``networks.sub_mobile`` says which number sets which layer).

    Attributes:
        stem, down0, trunk: the 7x7 stem's, the first downsampling's, the trunk's.
        hidden: each residual block's inner width (nine).
        up0, up1: the transposed convolutions'.
    """

    stem: int
    down0: int
    trunk: int
    hidden: tuple
    up0: int
    up1: int

    @classmethod
    def parse(cls, config_str, n_blocks=9):
        """The widths that a config string (e.g. "16_16_32_16_32_32_16_16") sets."""
        try:
            c = [int(v) for v in config_str.split("_")]
        except (AttributeError, ValueError):
            c = []
        if len(c) not in (6, 8) or min(c) < 1:
            raise errors.ConfigError(
                f"--sub_mobile_config={config_str!r} is not a GAN Compression config string: "
                "6 or 8 positive numbers joined by '_' (e.g. 16_16_32_16_32_32_16_16)"
            )
        if len(c) == 6:
            hidden, ups = [4 * c[3]] * n_blocks, c[4:6]
        else:
            hidden, ups = [4 * c[3 + i // 3] for i in range(n_blocks)], c[6:8]
        return cls(c[0], 2 * c[1], 4 * c[2], tuple(hidden), 2 * ups[0], ups[1])


def get(name):
    """The ``Generator`` named ``name``; ConfigError for an unknown one."""
    if name not in GENERATORS:
        raise errors.ConfigError(f"unknown generator {name!r}; expected one of {list(GENERATORS)}")
    return GENERATORS[name]


def official(family, depth):
    """The official architecture of ``family`` with ``depth``, or None."""
    for generator in GENERATORS.values():
        if generator.official and (generator.family, generator.depth) == (family, depth):
            return generator
    return None


def check_size(name, size, flag):
    """Raises ConfigError unless ``size`` is an image side the generator ``name`` takes.

    Args:
        flag: the option that set it, for the message (e.g. "--crop_size").
    """
    multiple = get(name).size_multiple
    smallest = max(multiple, MIN_SIZE)
    if size % multiple or size < smallest:
        raise errors.ConfigError(
            f"{flag}={size} does not fit --generator={name}: use a multiple of {multiple} "
            f"that is at least {smallest}"
        )
