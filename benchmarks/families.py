r"""Step time of CycleGAN, CUT and FastCUT on this machine, interleaved.

Each family with its official defaults (CUT: antialiased networks, identity PatchNCE;
FastCUT: no identity term, flip equivariance), batch 1, the same generator and widths for
all three; rounds alternate the families so that drift hits all alike. Prints a table and
each family's ratio to CycleGAN (the CUT paper's: CUT 0.6x, FastCUT 0.375x of CycleGAN).

  python benchmarks/families.py --sizes=128,256
  python benchmarks/families.py --sizes=128 --generator=resnet_6blocks --ngf=32 --ndf=64
"""

import statistics

import common
from absl import app, flags

_SIZES = flags.DEFINE_list("sizes", ["128", "256"], "Image sizes (pixels a side).")
_GENERATOR = flags.DEFINE_string("generator", "resnet_9blocks", "Generator of all three.")
_NGF = flags.DEFINE_integer("ngf", 64, "Generator width.")
_NDF = flags.DEFINE_integer("ndf", 64, "Discriminator width.")
_STEPS = flags.DEFINE_integer("steps", 5, "Timed steps per family per round.")
_ROUNDS = flags.DEFINE_integer("rounds", 2, "Interleaved rounds.")
_PRECISION = flags.DEFINE_string("precision", "auto", "Compute dtype, as training's.")
_ANTIALIAS = flags.DEFINE_enum(
    "antialias", "official", ["official", "off"], "CUT's antialiasing: its default, or off."
)

FAMILIES = ("cyclegan", "cut", "fastcut")


def main(argv):
    del argv
    print(f"CPU: {common.cpu_description()}")
    widths = dict(ngf=_NGF.value, ndf=_NDF.value)
    print(f"{_GENERATOR.value} {widths}, precision {_PRECISION.value}, batch 1")
    print("| size | model | s/step (rounds) | median | x CycleGAN |")
    print("| --- | --- | --- | --- | --- |")
    for size in map(int, _SIZES.value):
        times = {family: [] for family in FAMILIES}
        for _ in range(_ROUNDS.value):
            for family in FAMILIES:
                options = dict(widths)
                if family != "cyclegan" and _ANTIALIAS.value == "off":
                    options["antialias"] = False
                seconds = common.train_step(
                    _GENERATOR.value,
                    size,
                    False,
                    _STEPS.value,
                    precision=_PRECISION.value,
                    family=family,
                    **widths,
                )
                times[family].append(seconds)
        base = statistics.median(times["cyclegan"])
        for family in FAMILIES:
            median = statistics.median(times[family])
            rounds = " / ".join(f"{t:.3f}" for t in times[family])
            print(f"| {size} | {family} | {rounds} | {median:.3f} | {median / base:.2f} |")


if __name__ == "__main__":
    app.run(main)
