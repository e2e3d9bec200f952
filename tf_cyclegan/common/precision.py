"""Which dtype a run computes in, and what ``auto`` means on the hardware at hand.

Weights, losses, instance-norm statistics and Adam stay float32 in every precision (Keras'
``mixed_<dtype>`` policies); only the layers' computations change dtype. ``auto`` is mixed
bfloat16 where the hardware computes bfloat16 natively, float32 elsewhere: emulated bfloat16
is slower than float32. A run records the precision ``auto`` resolved to, so it resumes in
that precision on any machine.
"""

import contextlib
import dataclasses
import functools

import keras
import tensorflow as tf

AUTO = "auto"
FLOAT32 = "float32"
PRECISIONS = (AUTO, FLOAT32, "bfloat16", "float16")
# CPU flags (Linux /proc/cpuinfo) of units that compute bfloat16 products in hardware:
# Intel AMX tiles, and the AVX-512 BF16 dot products (Intel Cooper Lake+, AMD Zen 4+).
NATIVE_BFLOAT16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
# NVIDIA GPUs have bfloat16 tensor cores from Ampere (compute capability 8.0) on.
MIN_BFLOAT16_GPU = (8, 0)


@dataclasses.dataclass(frozen=True)
class Hardware:
    """What decides ``auto``: the CPU's feature flags and each visible GPU's capability.

    Attributes:
        cpu_flags: frozenset of lowercase flag names ("avx512_bf16", ...).
        gpu_capabilities: ((major, minor), ...) compute capabilities, one per GPU that
            TensorFlow sees (training runs on the GPUs when there are any).
    """

    cpu_flags: frozenset = frozenset()
    gpu_capabilities: tuple = ()


def _cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags; empty where ``/proc/cpuinfo`` does not exist (not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return frozenset()
    for line in lines:
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):  # x86, ARM
            return frozenset(value.split())
    return frozenset()


@functools.cache
def detect():
    """The ``Hardware`` of this process (cached: it does not change while it runs)."""
    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability", (0, 0))))
    return Hardware(_cpu_flags(), tuple(capabilities))


def native_bfloat16(hardware):
    """Why ``hardware`` computes bfloat16 natively (a short phrase), or None where it does not."""
    if hardware.gpu_capabilities:  # Training runs on the GPUs: the CPU does not matter.
        if all(c >= MIN_BFLOAT16_GPU for c in hardware.gpu_capabilities):
            lowest = min(hardware.gpu_capabilities)
            return f"GPUs of compute capability >= {lowest[0]}.{lowest[1]}"
        return None
    native = [f for f in NATIVE_BFLOAT16_CPU_FLAGS if f in hardware.cpu_flags]
    return f"CPU flags {', '.join(native)}" if native else None


def resolve(choice, hardware=None):
    """The concrete precision of ``choice`` and why.

    Args:
        choice: one of ``PRECISIONS``.
        hardware: a ``Hardware``; this machine's by default.

    Returns:
        (precision, reason): precision is "float32", "bfloat16" or "float16"; reason says
        what ``auto`` saw ("" for an explicit choice).
    """
    if choice != AUTO:
        return choice, ""
    hardware = hardware or detect()
    reason = native_bfloat16(hardware)
    if reason:
        return "bfloat16", f"auto: native bfloat16 ({reason})"
    return FLOAT32, "auto: no native bfloat16 on this machine"


@contextlib.contextmanager
def dtype_policy(precision):
    """Builds layers under Keras' policy for ``precision`` without leaving it set globally.

    Args:
        precision: "float32", "bfloat16" or "float16" (resolved: not "auto"); weights stay
            float32 in all three.
    """
    if precision not in PRECISIONS[1:]:
        raise ValueError(f"unknown precision {precision!r}; expected one of {PRECISIONS[1:]}")
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(
        FLOAT32 if precision == FLOAT32 else f"mixed_{precision}"
    )
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
