"""visionbook.metrics: known values, reference behaviour, clear errors."""

import numpy as np
import pytest

from visionbook import cnn, metrics


def test_frechet_distance_of_shifted_gaussians():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4000, 3))
    b = rng.standard_normal((4000, 3)) + np.array([2.0, 0.0, 0.0])
    # Same covariance, means 2 apart: the distance is about 2**2 = 4.
    assert metrics.frechet_distance(a, b) == pytest.approx(4.0, abs=0.3)
    assert metrics.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_handles_dead_features():
    rng = np.random.default_rng(1)
    a = np.hstack([rng.standard_normal((500, 4)), np.zeros((500, 3))])
    b = np.hstack([rng.standard_normal((500, 4)), np.zeros((500, 3))])
    assert np.isfinite(metrics.frechet_distance(a, b))


def test_frechet_distance_needs_enough_samples():
    with pytest.raises(ValueError, match="more samples than features"):
        metrics.frechet_distance(np.zeros((10, 128)), np.zeros((500, 128)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.frechet_distance(np.full((500, 2), np.nan), np.zeros((500, 2)))
    with pytest.raises(ValueError, match="feature sizes differ"):
        metrics.frechet_distance(np.random.rand(50, 2), np.random.rand(50, 3))


def test_classifier_score_bounds():
    confident_even = np.eye(10)[np.arange(1000) % 10]
    assert metrics.classifier_score(confident_even) == pytest.approx(10.0, rel=1e-6)
    assert metrics.classifier_score(np.eye(10)[np.zeros(1000, int)]) == pytest.approx(1.0, rel=1e-6)
    assert metrics.classifier_score(np.full((100, 10), 0.1)) == pytest.approx(1.0, rel=1e-6)
    with pytest.raises(ValueError, match="probabilities"):
        metrics.classifier_score(np.full((100, 10), 0.5))


def test_class_coverage_exposes_collapse():
    collapsed = metrics.class_coverage(np.eye(10)[np.r_[np.zeros(990, int), np.arange(10)]])
    assert collapsed["covered"] == 1 and collapsed["largest_share"] > 0.99
    even = metrics.class_coverage(np.eye(10)[np.arange(1000) % 10])
    assert even["covered"] == 10 and even["largest_share"] == pytest.approx(0.1)


def test_nearest_neighbour_distances():
    refs = np.zeros((3, 4, 4), np.float32)
    refs[1] += 0.5
    refs[2] += 1.0
    distances, where = metrics.nearest_neighbour_distances(np.full((2, 4, 4), 0.45, np.float32), refs)
    assert where.tolist() == [1, 1]
    np.testing.assert_allclose(distances, 0.05 * 4, rtol=1e-4)
    with pytest.raises(ValueError, match="pixels"):
        metrics.nearest_neighbour_distances(np.zeros((2, 4, 4)), np.zeros((2, 5, 5)))


def test_an_exact_copy_is_at_distance_zero():
    """Copies are what chapter 12 looks for: one must read 0, not the expansion's rounding."""
    references = np.random.default_rng(0).uniform(0, 1, (50, 28, 28)).astype("float32")
    queries = np.concatenate([references, np.full((1, 28, 28), 0.5, np.float32)])
    distances, where = metrics.nearest_neighbour_distances(queries, references, batch_size=16)
    assert where[:50].tolist() == list(range(50))
    assert np.all(distances[:50] == 0.0), distances[:50].max()  # the expansion alone read up to 0.015
    brute = np.sqrt(((queries[50] - references) ** 2).sum(axis=(1, 2)))
    assert where[50] == brute.argmin()
    np.testing.assert_allclose(distances[50], brute.min(), rtol=1e-6)


def test_judge_with_an_untrained_classifier_checks_inputs():
    judge = cnn.create_fashion_cnn()
    probs = metrics.probabilities(judge, np.zeros((20, 28, 28), np.uint8))
    assert probs.shape == (20, 10)
    assert metrics.features(judge, np.zeros((20, 28, 28), np.uint8)).shape == (20, 128)
    with pytest.raises(ValueError, match="divide by 255"):
        metrics.probabilities(judge, np.full((2, 28, 28), 7.0))
