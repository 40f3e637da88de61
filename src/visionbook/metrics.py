"""Numbers that judge generated images, using a recognition model as the judge.

Every function takes arrays, plus the judging classifier as an argument, so
the judge stays independent of what it judges (this module imports no
generative model).  The Frechet distance here is computed on the features of
the book's Fashion-MNIST CNN, not on Inception-v3 as in the published FID:
values are comparable within this book, not with FID numbers from papers.
"""

from __future__ import annotations

import warnings
import weakref

import keras
import numpy as np
from scipy import linalg

from visionbook import checks, data


def _images(images: object, classifier: keras.Model, argument: str = "images") -> np.ndarray:
    checks.classifier_classes(classifier, "classifier")
    height, width, channels = checks.image_input_shape(classifier, "classifier")
    return data.as_batch(images, (height, width), channels, argument=argument)


def _real_matrix(values: object, argument: str) -> np.ndarray:
    """``values`` as a float64 array, or a clear error naming ``argument``."""
    try:
        array = np.asarray(values)
        if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(f"dtype {array.dtype}")
        return array.astype("float64")
    except (TypeError, ValueError) as err:
        raise TypeError(f"{argument} must be an array of real numbers ({err}).") from err


def _probs_fix(p: np.ndarray) -> str:
    if p.ndim == 1:
        return (
            " A vector looks like class indices: pass class probabilities, "
            "metrics.probabilities(classifier, images) or classifier.predict(images)."
        )
    if p.ndim == 3 and p.shape[-1] == 1:
        return " Drop the last axis: probs[..., 0]."
    return ""


def feature_extractor(classifier: keras.Model, layer: str | None = None) -> keras.Model:
    """A model that returns ``classifier``'s features: by default the input of its last layer."""
    checks.classifier_classes(classifier, "classifier")
    if layer is not None and not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name (str) or None, got {layer!r}.")
    if layer is None:
        output = classifier.layers[-1].input
    else:
        try:
            output = classifier.get_layer(layer).output
        except ValueError as err:
            raise ValueError(f"classifier has no layer {layer!r}.") from err
    return keras.Model(classifier.inputs[0], output, name="features")  # Sequential too


#: One feature model per judging classifier: building a new model on every call
#: would make TensorFlow trace (compile) its prediction function again each time.
_EXTRACTORS: "weakref.WeakKeyDictionary[keras.Model, keras.Model]" = weakref.WeakKeyDictionary()


def features(classifier: keras.Model, images: object, batch_size: int = 1000) -> np.ndarray:
    """Feature vectors of ``images`` (uint8 or [0, 1]) from ``classifier``'s penultimate layer."""
    batch = _images(images, classifier)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    extractor = _EXTRACTORS.get(classifier)
    if extractor is None:
        extractor = _EXTRACTORS[classifier] = feature_extractor(classifier)
    return extractor.predict(batch, batch_size=batch_size, verbose=0).astype("float64")


def probabilities(classifier: keras.Model, images: object, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities of ``images`` from a softmax ``classifier``."""
    batch = _images(images, classifier)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    return classifier.predict(batch, batch_size=batch_size, verbose=0).astype("float64")


def frechet_distance(features_a: object, features_b: object) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors.

    ``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))``. The matrix square
    root of a product of covariances can come out slightly complex or
    non-finite from round-off; a small ridge is added to the diagonals when
    that happens, and a large imaginary part is reported as an error.
    """
    a = _real_matrix(features_a, "features_a")
    b = _real_matrix(features_b, "features_b")
    for name, f in (("features_a", a), ("features_b", b)):
        if f.ndim != 2 or f.shape[1] < 1:
            raise ValueError(
                f"{name} must be a 2-D array (samples, features >= 1), got shape {f.shape}."
            )
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
    with np.errstate(over="ignore", invalid="ignore"):  # huge values: reported below
        varying = (a.std(axis=0) > 0) | (b.std(axis=0) > 0) | (a.mean(axis=0) != b.mean(axis=0))
    if not varying.any():
        return 0.0  # the same constant vector in both sets
    a, b = a[:, varying], b[:, varying]
    with np.errstate(over="ignore", invalid="ignore"):
        mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
        cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    if not (np.all(np.isfinite(cov_a)) and np.all(np.isfinite(cov_b))):
        raise ValueError(
            "features_a and features_b are too large for float64 arithmetic (their covariance "
            "overflows); rescale them."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        root = linalg.sqrtm(cov_a @ cov_b)
        if not np.all(np.isfinite(root)):
            ridge = np.eye(len(cov_a)) * 1e-6
            root = linalg.sqrtm((cov_a + ridge) @ (cov_b + ridge))
    if np.iscomplexobj(root):
        if np.max(np.abs(root.imag)) > 1e-3 * max(1.0, np.max(np.abs(root.real))):
            raise ValueError(
                "features_a and features_b give a covariance square root with a large imaginary "
                "part: too few or degenerate samples."
            )
        root = root.real
    with np.errstate(over="ignore", invalid="ignore"):
        distance = float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))
    if not np.isfinite(distance):
        raise ValueError(
            "features_a and features_b give a non-finite distance: their values are too large "
            "for float64 arithmetic; rescale them."
        )
    return max(distance, 0.0)


def classifier_score(probs: object) -> float:
    """Inception-score-style ``exp(E_x KL(p(y|x) || p(y)))`` from class probabilities.

    It is high (up to the number of classes) when each image is classified
    confidently and the classes are evenly used; it is 1 when every image gets
    the same prediction or every prediction is uniform.
    """
    p = _real_matrix(probs, "probs")
    if p.ndim != 2 or p.shape[0] < 2 or p.shape[1] < 1:
        raise ValueError(f"probs must be (samples >= 2, classes >= 1), got shape {p.shape}.{_probs_fix(p)}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-3):
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
    p = _real_matrix(probs, "probs")
    if p.ndim != 2 or p.shape[0] < 1 or p.shape[1] < 1:
        raise ValueError(f"probs must be (samples >= 1, classes >= 1), got shape {p.shape}.{_probs_fix(p)}")
    if not np.all(np.isfinite(p)):
        raise ValueError("probs contains NaN or infinite values: pass class probabilities (a softmax output).")
    checks.check_number(min_share, "min_share", low=0.0, high=1.0)
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
    q = data.to_unit_range(queries, argument="queries")
    r = data.to_unit_range(references, argument="references")
    for name, array in (("queries", q), ("references", r)):
        if array.ndim < 2:
            raise ValueError(
                f"{name} have shape {array.shape}: pass a batch of images, (n, height, width) "
                "or (n, height, width, channels)."
            )
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    q = q.reshape(len(q), -1)
    r = r.reshape(len(r), -1)
    if q.shape[1] != r.shape[1]:
        raise ValueError(f"queries have {q.shape[1]} pixels each, references {r.shape[1]}.")
    r_norms = np.sum(r**2, axis=1)
    best = np.empty(len(q), dtype="float32")
    where = np.empty(len(q), dtype="int64")
    for start in range(0, len(q), batch_size):
        chunk = q[start : start + batch_size]
        # |q|^2 - 2 q.r + |r|^2, built in place in the matrix product: each
        # temporary the size of that matrix is fresh memory, which is slow to get.
        squared = chunk @ r.T
        squared *= -2.0
        squared += np.sum(chunk**2, axis=1)[:, None]
        squared += r_norms[None, :]
        nearest = np.argmin(squared, axis=1)
        where[start : start + batch_size] = nearest
        # The expansion above cancels large terms and leaves float32 rounding
        # (an exact copy would read about 0.001-0.01 away): measure each
        # query's distance to the neighbour it found directly instead.
        best[start : start + batch_size] = np.linalg.norm(chunk - r[nearest], axis=1)
    return best, where


def judge(classifier: keras.Model, images: object, reference_features: np.ndarray) -> dict[str, float]:
    """All the book's quality numbers for ``images`` at once."""
    probs = probabilities(classifier, images)
    coverage = class_coverage(probs)
    reference = _real_matrix(reference_features, "reference_features")
    if reference.ndim != 2:
        raise ValueError(
            f"reference_features must be (samples, features), e.g. metrics.features(classifier, "
            f"real_images); got shape {reference.shape}."
        )
    try:
        distance = frechet_distance(features(classifier, images), reference)
    except ValueError as err:
        raise ValueError(
            f"{err} (here features_a are the features of images, features_b are reference_features)"
        ) from err
    return {
        "frechet_distance": distance,
        "classifier_score": classifier_score(probs),
        "classes_covered": coverage["covered"],
        "largest_class_share": coverage["largest_share"],
    }
