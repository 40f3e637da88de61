"""Numbers that judge generated images, using a recognition model as the judge.

Every function takes arrays, plus the judging classifier as an argument, so
the judge stays independent of what it judges (this module imports no
generative model).  The Frechet distance here is computed on the features of
the book's Fashion-MNIST CNN, not on Inception-v3 as in the published FID:
values are comparable within this book, not with FID numbers from papers.
"""

from __future__ import annotations

import warnings

import keras
import numpy as np
from scipy import linalg

from visionbook import data


def _images(images: object, classifier: keras.Model, argument: str = "images") -> np.ndarray:
    _, height, width, channels = classifier.input_shape
    return data.as_batch(images, (height, width), channels, argument=argument)


def feature_extractor(classifier: keras.Model, layer: str | None = None) -> keras.Model:
    """A model that returns ``classifier``'s features: by default the input of its last layer."""
    if layer is None:
        output = classifier.layers[-1].input
    else:
        try:
            output = classifier.get_layer(layer).output
        except ValueError as err:
            raise ValueError(f"classifier has no layer {layer!r}.") from err
    return keras.Model(classifier.input, output, name="features")


def features(classifier: keras.Model, images: object, batch_size: int = 1000) -> np.ndarray:
    """Feature vectors of ``images`` (uint8 or [0, 1]) from ``classifier``'s penultimate layer."""
    batch = _images(images, classifier)
    return feature_extractor(classifier).predict(batch, batch_size=batch_size, verbose=0).astype("float64")


def probabilities(classifier: keras.Model, images: object, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities of ``images`` from a softmax ``classifier``."""
    return classifier.predict(_images(images, classifier), batch_size=batch_size, verbose=0).astype("float64")


def frechet_distance(features_a: object, features_b: object) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. The matrix square
    root of a product of covariances can come out slightly complex or
    non-finite from round-off; a small ridge is added to the diagonals when
    that happens, and a large imaginary part is reported as an error.
    """
    a = np.asarray(features_a, dtype="float64")
    b = np.asarray(features_b, dtype="float64")
    for name, f in (("features_a", a), ("features_b", b)):
        if f.ndim != 2:
            raise ValueError(f"{name} must be a 2-D array (samples, features), got shape {f.shape}.")
        if not np.all(np.isfinite(f)):
            raise ValueError(f"{name} contains NaN or infinite values.")
        if f.shape[0] <= f.shape[1]:
            raise ValueError(
                f"{name} has {f.shape[0]} samples of {f.shape[1]} features: a covariance "
                f"needs more samples than features to be full rank; use at least "
                f"{f.shape[1] + 1} (the book uses 2,000 or more)."
            )
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} and {b.shape[1]}.")
    # Features that are constant in both sets (ReLU units that never fire)
    # add nothing to the distance but make the covariances singular: drop them.
    varying = (a.std(axis=0) > 0) | (b.std(axis=0) > 0) | (a.mean(axis=0) != b.mean(axis=0))
    a, b = a[:, varying], b[:, varying]
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(root)):
            ridge = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    if np.iscomplexobj(root):
        if np.max(np.abs(root.imag)) > 1e-3 * max(1.0, np.max(np.abs(root.real))):
            raise ValueError("the covariance square root has a large imaginary part: too few or degenerate samples.")
        root = root.real
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root)
    return float(max(distance, 0.0))


def classifier_score(probs: object) -> float:
    """Inception-score-style ``exp(E_x KL(p(y|x) || p(y)))`` from class probabilities.

    It is high (up to the number of classes) when each image is classified
    confidently and the classes are evenly used; it is 1 when every image gets
    the same prediction or every prediction is uniform.
    """
    p = np.asarray(probs, dtype="float64")
    if p.ndim != 2 or p.shape[0] < 2:
        raise ValueError(f"probs must be (samples >= 2, classes), got shape {p.shape}.")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("probs must be probabilities: non-negative rows that sum to 1 (a softmax output).")
    p = np.clip(p, 1e-12, 1.0)
    marginal = p.mean(axis=0)
    kl = np.sum(p * (np.log(p) - np.log(marginal)), axis=1)
    return float(np.exp(kl.mean()))


def class_coverage(probs: object, min_share: float = 0.02) -> dict[str, float]:
    """How the judge spreads generated images over its classes.

    Returns ``covered`` (classes predicted for at least ``min_share`` of the
    images), ``largest_share`` (the most frequent class's share: near 1 means
    mode collapse) and ``shares`` per class.
    """
    p = np.asarray(probs, dtype="float64")
    if p.ndim != 2 or p.shape[0] < 1:
        raise ValueError(f"probs must be (samples, classes), got shape {p.shape}.")
    counts = np.bincount(np.argmax(p, axis=1), minlength=p.shape[1])
    shares = counts / counts.sum()
    return {
        "covered": int(np.sum(shares >= min_share)),
        "largest_share": float(shares.max()),
        "shares": shares.tolist(),
    }


def nearest_neighbour_distances(
    queries: object, references: object, batch_size: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean pixel distance from each query image to its nearest reference image.

    Returns ``(distances, indices)``. Used to ask whether a generator copies
    its training images: compare with the distances of real test images.
    """
    q = data.to_unit_range(queries, argument="queries").reshape(len(queries), -1).astype("float32")
    r = data.to_unit_range(references, argument="references").reshape(len(references), -1).astype("float32")
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} pixels each, references {r.shape[1]}.")
    r_norms = np.sum(r**2, axis=1)
    best = np.empty(len(q), dtype="float32")
    where = np.empty(len(q), dtype="int64")
    for start in range(0, len(q), batch_size):
        chunk = q[start : start + batch_size]
        squared = np.sum(chunk**2, axis=1)[:, None] - 2.0 * chunk @ r.T + r_norms[None, :]
        where[start : start + batch_size] = np.argmin(squared, axis=1)
        best[start : start + batch_size] = np.sqrt(np.maximum(np.min(squared, axis=1), 0.0))
    return best, where


def judge(classifier: keras.Model, images: object, reference_features: np.ndarray) -> dict[str, float]:
    """All the book's quality numbers for ``images`` at once."""
    probs = probabilities(classifier, images)
    coverage = class_coverage(probs)
    return {
        "frechet_distance": frechet_distance(features(classifier, images), reference_features),
        "classifier_score": classifier_score(probs),
        "classes_covered": coverage["covered"],
        "largest_class_share": coverage["largest_share"],
    }
