"""How closely an exported artifact reproduces the trained generator."""

import numpy as np
from absl import logging

from tf_cyclegan.common import errors
from tf_cyclegan.evaluation import metrics

# The contract (docs/deploying.md): exports below these fail. Measured values are far above them.
PSNR_FLOORS_DB = {
    "saved_model": 50.0,
    "saved_model_bfloat16": 40.0,  # bfloat16 keeps 8 significant bits, float16 11.
    "float32": 50.0,
    "float16": 40.0,
    "pth": 50.0,
}
POOR_PSNR_DB = 25.0


class ParityError(errors.UserError, RuntimeError):
    """An artifact computes something measurably different from the trained model."""


def compare(expected, actual):
    """PSNR (peak-to-peak 2, for [-1, 1] images) and max abs error of actual vs expected."""
    expected = np.asarray(expected, np.float64)
    actual = np.asarray(actual, np.float64)
    psnr = metrics.psnr(expected, actual)
    return {"psnr_db": round(psnr, 2), "max_abs_error": float(np.max(np.abs(expected - actual)))}


def check(name, variant, figures):
    """Raises ParityError below the variant's floor; warns when quality is poor."""
    psnr = figures["psnr_db"]
    if not (psnr == psnr and np.isfinite(figures["max_abs_error"])):  # NaN fails any test.
        raise ParityError(f"{name}: its outputs are not finite (PSNR {psnr}); nothing written")
    floor = PSNR_FLOORS_DB.get(variant)
    if floor is not None and psnr < floor:
        raise ParityError(f"{name}: PSNR {figures['psnr_db']} dB is below its {floor} dB floor")
    if psnr < POOR_PSNR_DB:
        logging.warning("%s: PSNR %.1f dB is poor; prefer float16", name, figures["psnr_db"])
