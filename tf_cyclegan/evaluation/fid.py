"""FID and KID between two sets of Inception features, as pytorch-fid and the KID paper.

The math is NumPy on feature arrays (float64); ``inception.py`` produces the features.
"""

import numpy as np


def statistics(features):
    """Mean [d] and covariance [d, d] (unbiased, as pytorch-fid) of float [n, d] features."""
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix; tiny negatives clipped."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)).

    Tr((S1 S2)^(1/2)) is computed as Tr((A S2 A)^(1/2)) with A = S1^(1/2): the same
    eigenvalues, but a symmetric matrix, so near-singular covariances (fewer images than
    feature dimensions) give a real, stable result without pytorch-fid's eps retry.
    """
    root = _sqrt_psd(sigma1)
    inner = root @ sigma2 @ root
    trace_sqrt = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0.0, None)))
    diff = np.asarray(mu1, np.float64) - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def fid(features1, features2):
    """Fréchet Inception Distance between float [n, d] and [m, d] feature sets."""
    return frechet_distance(*statistics(features1), *statistics(features2))


def _polynomial_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x, y):
    """Unbiased MMD^2 with the cubic polynomial kernel (Bińkowski et al. 2018)."""
    m, n = len(x), len(y)
    kxx, kyy, kxy = _polynomial_kernel(x, x), _polynomial_kernel(y, y), _polynomial_kernel(x, y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
        + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
        - 2.0 * kxy.mean()
    )


def kid(features1, features2, subsets=100, subset_size=1000, seed=0):
    """Kernel Inception Distance: mean and std of unbiased MMD^2 over random subsets.

    subset_size is capped at the smaller set, as the reference code does for small sets.
    """
    x = np.asarray(features1, np.float64)
    y = np.asarray(features2, np.float64)
    size = min(subset_size, len(x), len(y))
    if size < 2:
        raise ValueError(f"KID needs at least 2 images per set, got {len(x)} and {len(y)}")
    rng = np.random.default_rng(seed)
    values = [
        mmd2_unbiased(
            x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)]
        )
        for _ in range(subsets)
    ]
    return float(np.mean(values)), float(np.std(values))
