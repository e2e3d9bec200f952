import numpy as np
import tensorflow as tf

from tf_cyclegan.evaluation import fid


def _features(n, d, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ mixing + shift


def _numpy_fid(x, y):
    """The textbook formula with a general (non-symmetric) eigendecomposition of S1 S2."""
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    eigenvalues = np.linalg.eigvals(s1 @ s2)
    trace_sqrt = np.sum(np.sqrt(np.clip(eigenvalues.real, 0, None)))
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt


def _numpy_kid_single(x, y):
    d = x.shape[1]
    k = lambda a, b: (a @ b.T / d + 1) ** 3  # noqa: E731
    m, n = len(x), len(y)
    kxx = sum(k(x[i : i + 1], x[j : j + 1])[0, 0] for i in range(m) for j in range(m) if i != j)
    kyy = sum(k(y[i : i + 1], y[j : j + 1])[0, 0] for i in range(n) for j in range(n) if i != j)
    return kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - 2 * k(x, y).mean()


class FidTest(tf.test.TestCase):
    def test_a_set_against_itself_is_zero(self):
        x = _features(300, 16, seed=0)
        self.assertAllClose(fid.fid(x, x), 0.0, atol=1e-8)

    def test_matches_a_direct_numpy_computation(self):
        x, y = _features(400, 12, seed=1), _features(350, 12, seed=2, shift=0.3)
        self.assertAllClose(fid.fid(x, y), _numpy_fid(x, y), rtol=1e-6)

    def test_shifted_gaussians_give_the_squared_shift(self):
        # Equal covariances: FID is exactly ||mu1 - mu2||^2.
        mu, sigma = np.zeros(4), np.diag([1.0, 2.0, 3.0, 4.0])
        self.assertAllClose(fid.frechet_distance(mu, sigma, mu + 2.0, sigma), 16.0)

    def test_stable_on_near_singular_covariances(self):
        # Fewer images than dimensions, as with 120 images and 2048 Inception features.
        x, y = _features(20, 64, seed=3), _features(25, 64, seed=4)
        value = fid.fid(x, y)
        self.assertTrue(np.isfinite(value))
        self.assertGreater(value, 0.0)
        scale = np.trace(np.cov(x, rowvar=False))  # Relative to the covariance's size.
        self.assertAllClose(fid.fid(x, x) / scale, 0.0, atol=1e-6)
        singular = np.diag([1.0, 1e-18, 0.0])
        self.assertAllClose(
            fid.frechet_distance(np.zeros(3), singular, np.zeros(3), singular), 0.0, atol=1e-8
        )


class KidTest(tf.test.TestCase):
    def test_matches_a_direct_numpy_computation(self):
        x, y = _features(12, 5, seed=5), _features(10, 5, seed=6, shift=0.5)
        self.assertAllClose(fid.mmd2_unbiased(x, y), _numpy_kid_single(x, y), rtol=1e-10)
        # With the subset as large as the smaller set, each subset holds all of y.
        mean, std = fid.kid(x[:10], y, subsets=3, subset_size=100)
        self.assertAllClose(mean, fid.mmd2_unbiased(x[:10], y), rtol=1e-10)
        self.assertAllClose(std, 0.0, atol=1e-12)

    def test_estimator_is_unbiased_for_equal_distributions(self):
        # Same distribution: the unbiased MMD^2 averages to 0; the biased V-statistic would
        # stay clearly positive at this sample size.
        rng = np.random.default_rng(7)
        values, biased = [], []
        for _ in range(300):
            x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 3))
            values.append(fid.mmd2_unbiased(x, y))
            k = lambda a, b: (a @ b.T / 3 + 1) ** 3  # noqa: E731
            biased.append(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean())
        standard_error = np.std(values) / np.sqrt(len(values))
        self.assertLess(abs(np.mean(values)), 3 * standard_error)
        self.assertGreater(np.mean(biased), 10 * standard_error)

    def test_too_few_images_is_refused(self):
        with self.assertRaisesRegex(ValueError, "at least 2 images"):
            fid.kid(np.zeros((1, 3)), np.zeros((5, 3)))


if __name__ == "__main__":
    tf.test.main()
