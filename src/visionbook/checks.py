"""Argument checks at the package's entry points.

Every public function of :mod:`visionbook` checks what a reader passes in
here, before any TensorFlow code runs, so a wrong argument gets an error that
names it, says what was received and how to fix it, instead of a traceback
from deep inside Keras. The chapters' lesson code (networks, training steps)
stays free of such checks.
"""

from __future__ import annotations

import numpy as np


def as_numeric_array(images: object, argument: str) -> np.ndarray:
    """``images`` as a non-empty, finite, real-valued NumPy array, or an error naming ``argument``."""
    try:
        array = np.asarray(images)
    except (ValueError, TypeError) as err:  # ragged nesting, odd objects
        raise TypeError(
            f"{argument} could not be read as one numeric array ({err}): every image "
            "must have the same shape; pass a NumPy array."
        ) from err
    if np.iscomplexobj(array):
        raise TypeError(f"{argument} must hold real numbers, got dtype {array.dtype}.")
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise TypeError(
            f"{argument} must be a numeric array, got dtype {array.dtype}."
        )
    if array.size == 0:
        raise ValueError(f"{argument} is empty (shape {array.shape}): pass at least one image.")
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        raise ValueError(
            f"{argument} contains NaN or infinite values: check how it was computed."
        )
    return array


def to_float32(array: np.ndarray) -> np.ndarray:
    """float32 copy; values beyond float32's range become inf, which the callers report."""
    with np.errstate(over="ignore"):
        return array.astype("float32")


# --------------------------------------------------------------------------


def check_positive_int(value: object, argument: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is a whole number >= ``minimum``, else explain."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{argument} must be an integer, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{argument} must be at least {minimum}, got {value}.")
    return int(value)


def check_seed(value: object, argument: str = "seed") -> int:
    """Return ``value`` if it is a valid random seed (a whole number in 0..2**32-1), else explain."""
    seed = check_positive_int(value, argument, minimum=0)
    if seed > 2**32 - 1:
        raise ValueError(f"{argument} must be at most 2**32 - 1 (NumPy's limit), got {seed}.")
    return seed


def check_number(
    value: object,
    argument: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite real number in the range, else explain."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{argument} must be a number, got {value!r} ({type(value).__name__}).")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not np.isfinite(number) or too_low or too_high:
        lower = "-inf" if low is None else f"{low:g}"
        upper = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{lower}, {upper}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{argument} must be a finite number in {interval}, got {value!r}.")
    return number


def check_model(model: object, argument: str = "model") -> None:
    """Raise a TypeError unless ``model`` is a Keras model."""
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(
            f"{argument} must be a keras.Model, got {type(model).__name__}."
        )


def image_input_shape(model: object, argument: str = "model") -> tuple[int, int, int]:
    """``(height, width, channels)`` of an image model's input, or a clear error."""
    check_model(model, argument)
    shape = model.input_shape
    if not (
        isinstance(shape, tuple) and len(shape) == 4
        and all(isinstance(d, int) and d > 0 for d in shape[1:])
    ):
        raise ValueError(
            f"{argument} takes input of shape {shape}, but a model of images, "
            "(None, height, width, channels), was expected."
        )
    return shape[1], shape[2], shape[3]


def classifier_classes(model: object, argument: str = "classifier") -> int:
    """The class count of an image classifier, ``(None, h, w, c) -> (None, classes)``, or a clear error."""
    image_input_shape(model, argument)
    out = model.output_shape
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], int) and out[1] >= 2):
        raise ValueError(
            f"{argument} outputs {out}, but a classifier outputs class probabilities "
            "(None, num_classes)."
        )
    return out[1]


def latent_input_size(model: object, argument: str = "model") -> int:
    """The latent length an image-making model takes, ``(None, latent_dim)``, or a clear error."""
    check_model(model, argument)
    shape, out = model.input_shape, model.output_shape
    if not (
        isinstance(shape, tuple) and len(shape) == 2 and isinstance(shape[1], int)
        and isinstance(out, tuple) and len(out) == 4
    ):
        raise ValueError(
            f"{argument} maps {shape} to {out}, but a generator or decoder maps latent "
            "vectors (None, latent_dim) to images (None, height, width, channels)."
        )
    return shape[1]


def as_latent_batch(vectors: object, latent_dim: int, *, argument: str = "latent vectors") -> np.ndarray:
    """Return float32 ``(n, latent_dim)`` vectors, or say clearly what is wrong.

    Generators and decoders take batches of latent (noise) vectors of one
    fixed length; a single vector is accepted and turned into a batch of one.
    """
    latent_dim = check_positive_int(latent_dim, "latent_dim")
    array = to_float32(as_numeric_array(vectors, argument))
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{argument} do not fit in float32 (values beyond +-3.4e38).")
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != latent_dim:
        raise ValueError(
            f"{argument}: got shape {np.shape(vectors)}, but this model takes vectors of "
            f"length {latent_dim}: pass an array of shape (n, {latent_dim})."
        )
    return array
