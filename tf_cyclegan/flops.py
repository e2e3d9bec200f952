r"""Prints the MACs and parameters of every generator (``networks.flops``).

python -m tf_cyclegan.flops --size=256

Documentation: docs/performance.md
"""

from absl import flags

from tf_cyclegan.common import architectures, cli
from tf_cyclegan.networks import flops

_SIZE = flags.DEFINE_integer("size", 256, "Square image size.")


def main(argv):
    del argv
    size = _SIZE.value
    print(f"Generators at {size}x{size} RGB (1 MAC = 2 FLOPs; convolutions only; transposed")
    print("convolutions per input pixel):")
    print(f"  {'generator':16s} {'GMACs':>8s} {'parameters':>12s}")
    for name, gmacs, params in flops.generator_table(size):
        if gmacs is None:
            multiple = architectures.get(name).size_multiple
            least = max(multiple, architectures.MIN_SIZE)
            print(f"  {name:16s} (takes multiples of {multiple}, at least {least})")
        else:
            print(f"  {name:16s} {gmacs:8.3f} {params:12,d}")


if __name__ == "__main__":
    cli.run(main)
