"""Argument checks at the package's entry points.

Every public function of :mod:`visionbook` checks what a reader passes in
here, before any TensorFlow code runs, so a wrong argument gets an error that
names it, says what was received and how to fix it, instead of a traceback
from deep inside Keras. The chapters' lesson code (networks, training steps)
stays free of such checks.

The kinds of check, in the order of this file: numbers (counts, seeds,
rates, fractions, switches, choices); arrays (numeric arrays, latent
vectors, class labels); models (their roles: classifier, generator,
discriminator, and pairs of them); training configurations (dicts like
``gan.FASHION_GAN``); files and folders (output paths that never replace a
file unless asked, folders that must exist).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# --------------------------------------------------------------------------
# Numbers, switches and choices
# --------------------------------------------------------------------------


def check_positive_int(
    value: object, argument: str, *, minimum: int = 1, maximum: int | None = None
) -> int:
    """Return ``value`` as an int if it is a whole number in ``minimum..maximum``, else explain."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        whole = isinstance(value, (float, np.floating)) and math.isfinite(value) and float(value).is_integer()
        fix = f": pass int({value!r})" if whole else ""
        raise TypeError(
            f"{argument} must be an integer (a whole number), got {value!r} ({type(value).__name__}){fix}."
        )
    if value < minimum:
        raise ValueError(f"{argument} must be at least {minimum}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{argument} must be at most {maximum}, got {value}.")
    return int(value)


#: The largest seed NumPy's and Keras's generators accept.
MAX_SEED = 2**32 - 1


def check_seed(value: object, argument: str = "seed") -> int:
    """Return ``value`` if it is a valid random seed (a whole number in 0..2**32-1), else explain."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and not 0 <= value <= MAX_SEED:
        raise ValueError(f"{argument} must be a whole number in 0..2**32-1 (NumPy's range), got {value}.")
    return check_positive_int(value, argument, minimum=0)


def check_number(
    value: object,
    argument: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    fix: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite real number in the range, else explain.

    NaN is refused too: it passes every ``<`` test, so ``x < 0`` alone would
    let it through and turn every result it touches into NaN.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{argument} must be a number, got {value!r} ({type(value).__name__}).")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        lower = "-inf" if low is None else f"{low:g}"
        upper = "inf" if high is None else f"{high:g}"
        interval = (
            f"{'(' if low_open or low is None else '['}{lower}, "
            f"{upper}{')' if high_open or high is None else ']'}"
        )
        raise ValueError(
            f"{argument} must be a finite number in {interval}, got {value!r}{': ' + fix if fix else ''}."
        )
    return number


def check_fraction(value: object, argument: str, *, one_allowed: bool = False) -> float:
    """A rate in [0, 1) (or [0, 1]); a percentage such as 30 gets the fix "30% is 0.3"."""
    fix = ""
    if (
        isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
        and 1.0 < float(value) <= 100.0
    ):
        fix = f"it is a fraction, not a percentage ({value:g}% is {float(value) / 100:g})"
    return check_number(value, argument, low=0.0, high=1.0, high_open=not one_allowed, fix=fix)


def check_flag(value: object, argument: str) -> bool:
    """``value`` if it is True or False (not 0, 1, "yes" or None)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{argument} must be True or False, got {value!r} ({type(value).__name__}).")
    return bool(value)


def check_choice(value: object, argument: str, choices: Iterable[object]) -> Any:
    """``value`` if it is one of ``choices``, else an error that lists them."""
    options = tuple(choices)
    try:
        known = value in options
    except TypeError:  # an unhashable or odd value
        known = False
    if not known:
        raise ValueError(f"{argument} must be one of {', '.join(map(repr, options))}; got {value!r}.")
    return value


def check_name(value: object, argument: str = "name") -> str:
    """A non-empty string (a model or layer name)."""
    if not isinstance(value, str) or not value:
        raise TypeError(f"{argument} must be a non-empty string, got {value!r}.")
    return value


def check_verbose(value: object, argument: str = "verbose") -> int | str:
    """Keras's verbosity: 0 (silent), 1 (progress bar), 2 (one line per epoch) or "auto"."""
    if value == "auto" and isinstance(value, str):
        return value
    return check_positive_int(value, argument, minimum=0, maximum=2)


def check_widths(
    values: object, argument: str, *, count: int | None = None, minimum: int = 1
) -> tuple[int, ...]:
    """Layer widths (filters, units) as a tuple of whole numbers, one per layer."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        example = ", ".join(["32"] * (count or 2))
        raise TypeError(
            f"{argument} must be a sequence of whole numbers, one per layer, got {values!r}: "
            f"for example ({example})."
        )
    if count is not None and len(values) != count:
        raise ValueError(f"{argument} needs {count} entries, one per layer, got {len(values)}: {values!r}.")
    if not len(values):
        raise ValueError(f"{argument} is empty: give at least one layer width.")
    return tuple(
        check_positive_int(v, f"{argument}[{i}]", minimum=minimum) for i, v in enumerate(values)
    )


def physical_memory_bytes() -> int:
    """This machine's memory (8 GiB where the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return 8 * 2**30


def _size(count_bytes: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if count_bytes < 1000 or unit == "PB":
            return f"{count_bytes:.3g} {unit}"
        count_bytes /= 1000
    return f"{count_bytes:.3g} PB"  # pragma: no cover


def check_count(
    value: object, argument: str, *, item_bytes: int, minimum: int = 1, what: str = "images"
) -> int:
    """A whole number of items whose arrays (``item_bytes`` each) fit in half this machine's memory.

    A count too large to allocate would otherwise end in NumPy's or
    TensorFlow's out-of-memory error, long after the call.
    """
    count = check_positive_int(value, argument, minimum=minimum)
    needed, limit = count * item_bytes, physical_memory_bytes() // 2
    if needed > limit:
        most = max(minimum, limit // max(1, item_bytes))
        raise ValueError(
            f"{argument} = {count:,} would need {_size(needed)} for the {what} alone, more than half of "
            f"this machine's {_size(physical_memory_bytes())}: ask for at most {most:,} at a time."
        )
    return count


# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------


def as_numeric_array(images: object, argument: str, *, allow_empty: bool = False) -> np.ndarray:
    """``images`` as a non-empty, finite, real-valued NumPy array, or an error naming ``argument``."""
    try:
        array = np.asarray(images)
    except (ValueError, TypeError) as err:  # ragged nesting, odd objects
        raise TypeError(
            f"{argument} could not be read as one numeric array ({err}): every image "
            "must have the same shape; pass a NumPy array."
        ) from err
    if np.iscomplexobj(array):
        raise TypeError(f"{argument} must hold real numbers, got dtype {array.dtype}: take np.abs or .real first.")
    if array.dtype.kind in "US" and array.size:
        raise TypeError(
            f"{argument} must be a numeric array, got text (dtype {array.dtype}, e.g. "
            f"{array.flat[0]!r}): convert it to numbers first."
        )
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(
            f"{argument} must be a numeric array, got dtype {array.dtype}."
        )
    if array.size == 0 and not allow_empty:
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


def as_class_indices(
    values: object,
    num_classes: int,
    argument: str = "labels",
    *,
    class_names: Sequence[str] | None = None,
    whole_floats: bool = True,
) -> np.ndarray:
    """Class labels as an int64 vector ``(n,)`` of indices in ``0..num_classes-1``, or a clear error.

    Accepts one index, a list or array of indices (``(n,)`` or ``(n, 1)``),
    whole-valued floats (unless ``whole_floats`` is False), and, when
    ``class_names`` is given, class names (any case). Probabilities or one-hot rows ``(n, classes)`` are refused
    with the fix ``np.argmax(p, axis=1)``; names without ``class_names``
    with the fix of turning them into indices.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    names = [str(n).lower() for n in class_names] if class_names is not None else None

    def index_of(name: str) -> int:
        if names is None:
            raise TypeError(
                f"{argument} holds class names such as {name!r}, but class indices 0..{num_classes - 1} "
                "are expected: convert them, e.g. [class_names.index(n) for n in labels]."
            )
        if name.lower() not in names[:num_classes]:
            raise ValueError(
                f"{argument} holds an unknown class {name!r}; the classes are: "
                f"{', '.join(map(str, class_names[:num_classes]))}."
            )
        return names.index(name.lower())

    def outside(value: int) -> ValueError:
        return ValueError(
            f"{argument} holds an unknown class {value}: class indices run from 0 to {num_classes - 1} "
            f"({num_classes} classes"
            + (f": {', '.join(map(str, class_names[:num_classes]))})." if class_names is not None else ").")
        )

    def one(value: object) -> int:
        if isinstance(value, str):
            return index_of(value)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"a class must be an integer index or a class name, got {value!r} in {argument}.")
        if not 0 <= value < num_classes:
            raise outside(int(value))
        return int(value)

    if isinstance(values, (str, bool, np.bool_)):
        return np.array([one(values)], dtype="int64")
    if isinstance(values, (list, tuple)) and any(isinstance(v, str) for v in values):
        return np.array([one(v) for v in values], dtype="int64")
    if isinstance(values, (int, np.integer)) and not isinstance(values, (bool, np.bool_)):
        values = [values]
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{argument} could not be read as one array of class indices ({err}).") from err
    if array.dtype.kind in "US":
        if array.ndim != 1 or array.size == 0:
            raise ValueError(f"{argument} must be a vector of class names or indices (n,), got shape {array.shape}.")
        return np.array([one(str(v)) for v in array.tolist()], dtype="int64")
    if array.dtype == bool:
        array = array.astype("int64")
    if array.dtype == object or array.dtype.kind not in "iuf":
        raise TypeError(f"{argument} must be class indices (integers), got dtype {array.dtype}.")
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim == 2 and array.shape[1] > 1:
        raise ValueError(
            f"{argument} has shape {array.shape}: rows of {array.shape[1]} numbers look like class "
            f"probabilities or one-hot vectors, but class indices (n,) are expected: pass "
            f"np.argmax({argument}, axis=1)."
        )
    if array.ndim != 1:
        raise ValueError(f"{argument} must be a vector of class indices (n,), got shape {array.shape}.")
    if array.size == 0:
        raise ValueError(f"{argument} is empty: pass at least one class index.")
    if array.dtype.kind == "f" and not whole_floats:
        raise TypeError(
            f"{argument} must be integer class indices, got dtype {array.dtype}: convert whole numbers "
            f"with {argument}.astype(int); for probabilities use np.argmax(p, axis=1)."
        )
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            probabilities = bool(np.all((array >= 0) & (array <= 1)))
            raise ValueError(
                f"{argument} must hold whole class indices, got fractions such as "
                f"{array[array != np.round(array)][:1].tolist() or array[:1].tolist()}"
                + (
                    ": these look like probabilities; for (n, classes) probabilities pass "
                    "np.argmax(p, axis=1)." if probabilities else "."
                )
            )
        array = array.astype("int64")
    unknown = array[(array < 0) | (array >= num_classes)]
    if unknown.size:
        raise outside(int(unknown[0]))
    return array.astype("int64")


def as_unit_image(values: object, argument: str, *, ndim: int | None = None, fix: str = "divide by 255") -> np.ndarray:
    """A real array with values in [0, 1] (integer 0/1 or floats), returned unchanged in value.

    For the classical image steps of :mod:`visionbook.apps`, which work on
    channels in [0, 1]: an image in 0..255 would give a threshold, a
    deconvolution or a share that is silently wrong, so it is refused with
    the fix (``fix``).
    """
    array = as_numeric_array(values, argument)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(
            f"{argument} must be a {ndim}-D array, got shape {array.shape}"
            + (": pass one channel (h, w); for colour, convert to grayscale (skimage.color.rgb2gray)."
               if ndim == 2 and array.ndim == 3 else ".")
        )
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{argument} lie in [{low:.3g}, {high:.3g}] but [0, 1] is expected: {fix}.")
    return array


# --------------------------------------------------------------------------
# Models and their roles
# --------------------------------------------------------------------------


def check_model(model: object, argument: str = "model") -> None:
    """Raise a TypeError unless ``model`` is a Keras model (a file path gets the fix: load it)."""
    import keras

    if not isinstance(model, keras.Model):
        fix = ""
        if isinstance(model, (str, os.PathLike)):
            fix = ": load it first, keras.saving.load_model(path)"
        raise TypeError(f"{argument} must be a keras.Model, got {type(model).__name__}{fix}.")


def model_shapes(model: object, argument: str = "model") -> tuple[Any, Any]:
    """``(input_shape, output_shape)`` of a Keras model, or a clear error (also for an unbuilt one)."""
    check_model(model, argument)
    try:
        return model.input_shape, model.output_shape
    except (AttributeError, ValueError) as err:
        raise ValueError(
            f"{argument} has no defined input yet ({err}): build it with keras.Input(...) "
            "as its first layer, or call it on a batch first."
        ) from err


def _is_image_shape(shape: object) -> bool:
    return (
        isinstance(shape, tuple) and len(shape) == 4
        and all(isinstance(d, int) and d > 0 for d in shape[1:])
    )


def image_input_shape(model: object, argument: str = "model") -> tuple[int, int, int]:
    """``(height, width, channels)`` of an image model's input, or a clear error."""
    shape, _ = model_shapes(model, argument)
    if not _is_image_shape(shape):
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
    shape, out = model_shapes(model, argument)
    if not (
        isinstance(shape, tuple) and len(shape) == 2 and isinstance(shape[1], int)
        and isinstance(out, tuple) and len(out) == 4
    ):
        hint = ""
        if isinstance(shape, list) and len(shape) == 2:
            hint = " This one takes two inputs (noise, label): use the cgan functions for it."
        elif _is_image_shape(shape):
            hint = " This one takes images: is it a discriminator, a classifier or an encoder?"
        raise ValueError(
            f"{argument} maps {shape} to {out}, but a generator or decoder maps latent "
            f"vectors (None, latent_dim) to images (None, height, width, channels).{hint}"
        )
    return shape[1]


def discriminator_image_shape(model: object, argument: str = "discriminator") -> tuple[int, int, int]:
    """The image shape a discriminator scores, ``(None, h, w, c) -> (None, 1)``, or a clear error."""
    shape, out = model_shapes(model, argument)
    if not (_is_image_shape(shape) and out == (None, 1)):
        raise ValueError(
            f"{argument} maps {shape} to {out}, but a discriminator maps images "
            "(None, height, width, channels) to one score each, (None, 1)."
        )
    return shape[1], shape[2], shape[3]


def generator_and_discriminator(
    generator: object, discriminator: object, latent_dim: object = None
) -> int:
    """Check the two players of a GAN and return the latent length; catch them swapped.

    ``latent_dim``, if given, must equal the generator's input length. A
    conditional pair (both take a label too) is checked as
    :func:`conditional_players` does.
    """
    check_model(generator, "generator")
    check_model(discriminator, "discriminator")
    g_in, g_out = model_shapes(generator, "generator")
    d_in, d_out = model_shapes(discriminator, "discriminator")
    if isinstance(g_in, list) or isinstance(d_in, list):
        latent, _ = conditional_players(generator, discriminator)
    else:
        if _is_image_shape(g_in) and isinstance(d_in, tuple) and len(d_in) == 2:
            raise ValueError(
                f"generator and discriminator are in the wrong order: the first maps {g_in} to {g_out} "
                f"(a discriminator), the second {d_in} to {d_out} (a generator). Pass GAN(generator, "
                "discriminator)."
            )
        latent = latent_input_size(generator, "generator")
        _check_same_images(g_out, discriminator_image_shape(discriminator, "discriminator"))
    if latent_dim is not None:
        given = check_positive_int(latent_dim, "latent_dim")
        if given != latent:
            raise ValueError(
                f"latent_dim is {given} but generator takes noise vectors of length {latent}: "
                f"leave latent_dim out (it is read from the generator) or pass {latent}."
            )
    return latent


def _check_same_images(generator_output: Any, image: tuple[int, int, int]) -> None:
    if tuple(generator_output[1:]) != image:
        raise ValueError(
            f"generator makes images of shape {tuple(generator_output[1:])} but discriminator scores "
            f"images of shape {image}: build them for the same image size and channels."
        )


def _embedding_size(model: Any) -> int | None:
    """How many classes the first ``Embedding`` layer of ``model`` knows (None without one)."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.Embedding):
            return int(layer.input_dim)
    return None


def conditional_generator_sizes(generator: object, argument: str = "generator") -> tuple[int, int]:
    """``(latent_dim, num_classes)`` of a conditional generator ``(noise, label) -> image``, or a clear error."""
    shapes, out = model_shapes(generator, argument)
    if not (
        isinstance(shapes, list) and len(shapes) == 2 and len(shapes[0]) == 2
        and isinstance(shapes[0][-1], int) and isinstance(out, tuple) and len(out) == 4
    ):
        if isinstance(shapes, tuple):
            raise TypeError(
                f"{argument} takes {shapes}, not (noise, label): it is not a conditional generator"
                + (": use gan.generate or gan.sample for an unconditional one." if len(shapes) == 2 else ".")
            )
        raise ValueError(
            f"{argument} maps {shapes} to {out}, but a conditional generator maps (noise "
            "(None, latent_dim), label (None,)) to images."
        )
    classes = _embedding_size(generator)
    if classes is None:
        raise ValueError(f"{argument} has no label Embedding layer, so its number of classes is unknown.")
    return int(shapes[0][-1]), classes


def conditional_players(
    generator: object, discriminator: object, num_classes: object = None
) -> tuple[int, int]:
    """Check the two players of a conditional GAN; return ``(latent_dim, num_classes)``.

    ``num_classes``, if given, must be the number of classes the generator knows.
    """
    check_model(generator, "generator")
    check_model(discriminator, "discriminator")
    d_in, d_out = model_shapes(discriminator, "discriminator")
    g_in, g_out = model_shapes(generator, "generator")
    if isinstance(g_in, list) and g_in and _is_image_shape(g_in[0]):
        raise ValueError(
            "generator and discriminator are in the wrong order: the first takes images. "
            "Pass ConditionalGAN(generator, discriminator)."
        )
    latent, generator_classes = conditional_generator_sizes(generator, "generator")
    if not (isinstance(d_in, list) and len(d_in) == 2 and _is_image_shape(d_in[0]) and d_out == (None, 1)):
        raise ValueError(
            f"discriminator maps {d_in} to {d_out}, but a conditional discriminator maps (image, label) "
            "to one score each, (None, 1)."
        )
    _check_same_images(g_out, tuple(d_in[0][1:]))
    if num_classes is None:
        return latent, generator_classes
    classes = check_positive_int(num_classes, "num_classes", minimum=2)
    if classes != generator_classes:
        raise ValueError(
            f"num_classes is {classes} but generator knows {generator_classes} classes: pass "
            f"num_classes={generator_classes} or build the networks for {classes}."
        )
    return latent, classes


def image_count(
    value: object,
    model: object,
    argument: str = "count",
    *,
    per: int = 1,
    minimum: int = 1,
    model_argument: str = "generator",
) -> int:
    """A number of images ``model`` is asked to make (``per`` images each), small enough to fit in memory.

    Each image is counted three times (the model's output, its rescaled copy
    and the caller's), in float32.
    """
    _, out = model_shapes(model, model_argument)
    pixels = math.prod(d or 1 for d in out[1:]) if isinstance(out, tuple) else 28 * 28
    return check_count(value, argument, item_bytes=3 * 4 * pixels * max(1, per), minimum=minimum)


def check_callbacks(callbacks: object, argument: str = "callbacks") -> list[Any]:
    """A list of Keras callbacks (an empty tuple is fine), or a clear error."""
    import keras

    if isinstance(callbacks, keras.callbacks.Callback):
        raise TypeError(f"{argument} must be a list of callbacks: pass [{type(callbacks).__name__}(...)].")
    if isinstance(callbacks, (str, bytes)) or not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{argument} must be a list of keras.callbacks.Callback, got {type(callbacks).__name__}.")
    for i, callback in enumerate(callbacks):
        if not isinstance(callback, keras.callbacks.Callback):
            raise TypeError(
                f"{argument}[{i}] must be a keras.callbacks.Callback, got {type(callback).__name__}"
                + (": pass an instance, with ()" if isinstance(callback, type) else "") + "."
            )
    return list(callbacks)


# --------------------------------------------------------------------------
# Training configurations (dicts such as gan.FASHION_GAN)
# --------------------------------------------------------------------------


def _json_value(value: object) -> object:
    """``json.dumps``'s fallback: NumPy numbers and paths by their (stable) text; nothing else."""
    if isinstance(value, (np.generic, Path)):
        return str(value)  # as the store has always keyed them
    raise TypeError(f"{type(value).__name__} {value!r}"[:200])


def config_text(config: object, argument: str = "config") -> str:
    """A configuration as canonical JSON (sorted keys), the text its store key is a hash of.

    Only values whose text is the same in every session are accepted:
    numbers, strings, True/False/None, lists, tuples and dicts of them
    (NumPy numbers and paths by their text). An object such as a function,
    a model or an optimizer prints its memory address, which would give the
    configuration a new key, and a retrained model, in every session.
    """
    if not isinstance(config, dict):
        raise TypeError(f"{argument} must be a dict of training settings, got {type(config).__name__}.")
    try:
        return json.dumps(config, sort_keys=True, default=_json_value)
    except TypeError as err:
        raise TypeError(
            f"{argument} holds a value that is not plain data ({err}): its text would change from "
            "session to session, and the model would be trained again every time. Keep numbers, "
            "strings, booleans, None, lists and dicts in it (a learning-rate schedule, say, by its settings)."
        ) from err
    except ValueError as err:  # a dict that contains itself
        raise ValueError(f"{argument} cannot be written as JSON ({err}).") from err


#: How :func:`check_config` checks a setting, by its name (or the end of it).
_COUNT_ENDINGS = ("batch_size", "epochs", "steps", "_dim", "kernel", "kernel_size", "per_class")
_RATES = {"learning_rate", "peak_learning_rate"}
_FRACTIONS = {"beta_1", "beta_2", "decay_from", "warmup_fraction", "bn_momentum"}
_INT_LISTS = {"filters", "strides", "step_choices"}
_NONE_ALLOWED = {"decay_from"}


def _check_setting(key: str, value: object, template_value: object, where: str, template_name: str) -> None:
    if value is None and (template_value is None or key in _NONE_ALLOWED):
        return  # a setting switched off (per_class None: all images; decay_from None: constant rates)
    if key.endswith("seed"):
        check_seed(value, where)
    elif key.endswith("seeds"):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            raise TypeError(f"{where} must be a non-empty list of seeds, got {value!r}.")
        for i, seed in enumerate(value):
            check_seed(seed, f"{where}[{i}]")
    elif key in _RATES or key.endswith("learning_rate"):
        check_number(value, where, low=0.0, low_open=True,
                     fix="a learning rate is a small positive number such as 1e-3" if _is_number(value) else "")
    elif key in _FRACTIONS or key.endswith("dropout"):
        check_fraction(value, where)
    elif key.endswith("widths") or key in _INT_LISTS:
        check_widths(value, where)  # how many a network takes, its builder checks
    elif key == "input_shape":
        check_widths(value, where, count=3)
    elif key == "num_classes":
        check_positive_int(value, where, minimum=2)
    elif key in ("dense_units",) or key.endswith("full_resolution_width"):
        check_positive_int(value, where, minimum=0)
    elif key.endswith(_COUNT_ENDINGS) or key == "count":
        check_positive_int(value, where)
    elif isinstance(template_value, Mapping):
        check_config(value, template_value, where, template_name=f"{template_name}[{key!r}]")
    elif isinstance(template_value, (bool, np.bool_)):
        check_flag(value, where)
    elif key == "sources" and isinstance(template_value, Sequence):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
            raise TypeError(f"{where} must be a non-empty list of sources from {list(template_value)}, got {value!r}.")
        for i, source in enumerate(value):
            check_choice(source, f"{where}[{i}]", template_value)
    elif isinstance(template_value, str):
        if not isinstance(value, str):
            raise TypeError(f"{where} must be a string like {template_value!r}, got {value!r}.")
    elif _is_number(template_value) and not isinstance(template_value, (int, np.integer)):
        check_number(value, where)
    elif isinstance(template_value, (int, np.integer)) and not isinstance(template_value, (bool, np.bool_)):
        check_positive_int(value, where, minimum=min(0, int(template_value)))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def check_config(
    config: object,
    template: Mapping[str, Any],
    argument: str = "config",
    *,
    optional: Iterable[str] = (),
    template_name: str = "the book's configuration",
) -> dict[str, Any]:
    """Check a training configuration against the book's (``template``) before anything is built.

    Every key of ``template`` not in ``optional`` must be present, no other
    key may be, and each value must make sense for its name: counts such
    as ``batch_size`` and ``epochs`` are whole numbers >= 1, seeds lie in
    0..2**32-1, learning rates are finite and positive (a negative one
    would train by gradient ascent), rates such as ``dropout`` and
    ``beta_1`` lie in [0, 1), widths are whole numbers, switches True or
    False, nested dicts are checked against the template's. The whole must
    be plain data (:func:`config_text`), so its store key is the same in
    every session. Returns ``config``. ``template_name`` (such as
    ``"gan.FASHION_GAN"``) is how the messages refer to the template.
    """
    start = f"start from {{**{template_name}, 'key': new_value}} and override only what you change"
    if not isinstance(config, dict):
        raise TypeError(f"{argument} must be a dict of training settings, got {type(config).__name__}: {start}.")
    optional = set(optional)
    missing = sorted(k for k in template if k not in config and k not in optional)
    if missing:
        raise ValueError(f"{argument} lacks {missing}: {start}.")
    unknown = sorted(str(k) for k in config if k not in template)
    if unknown:
        raise ValueError(
            f"{argument} has unknown keys {unknown} (a misspelling?); the keys are {sorted(template)}."
        )
    for key, value in config.items():
        _check_setting(key, value, template[key], f"{argument}[{key!r}]", template_name)
    config_text(config, argument)
    return config


# --------------------------------------------------------------------------
# Files and folders
# --------------------------------------------------------------------------


def check_path(value: object, argument: str) -> Path:
    """``value`` as a :class:`pathlib.Path` if it is a str or path (not bytes, not empty)."""
    if not isinstance(value, (str, os.PathLike)) or isinstance(value, bytes):
        raise TypeError(f"{argument} must be a file path (str or pathlib.Path), got {type(value).__name__}.")
    path = Path(value)
    if not str(value).strip():
        raise ValueError(f"{argument} is an empty path: name a file.")
    return path


def check_folder(value: object, argument: str) -> Path:
    """An existing folder, or FileNotFoundError / NotADirectoryError naming ``argument``."""
    path = check_path(value, argument)
    if not path.exists():
        raise FileNotFoundError(f"{argument}: the folder {path} does not exist (check its spelling).")
    if not path.is_dir():
        raise NotADirectoryError(f"{argument}: {path} is a file, not a folder.")
    return path


def check_output_path(
    value: object,
    argument: str = "path",
    *,
    overwrite: bool = False,
    suffixes: Sequence[str] | None = None,
) -> Path:
    """Where a new file may be written: a path whose folder can exist and which holds no file yet.

    An existing file is refused (``FileExistsError``) unless ``overwrite`` is
    True; a folder in its place, or a file where a parent folder should be,
    is refused too (``IsADirectoryError``, ``NotADirectoryError``).
    """
    path = check_path(value, argument)
    check_flag(overwrite, "overwrite")
    if path.is_dir():
        raise IsADirectoryError(f"{argument}: {path} is a folder; name a file inside it.")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise ValueError(f"{argument} must end in {' or '.join(suffixes)}, got {path.name!r}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"{argument}: {parent} is a file, so {path} cannot be created under it: choose another folder."
                )
            break
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise FileExistsError(
            f"{argument}: {path} exists and would be replaced; choose another name, or pass overwrite=True "
            "to replace it."
        )
    return path


def write_file(path: Path, write: Callable[[Path], None], *, overwrite: bool = False, argument: str = "path") -> Path:
    """Write a file through ``write(temporary_path)`` and move it to ``path`` in one step.

    An interrupted write leaves neither a half-written file nor a replaced
    one. Without ``overwrite`` the final step refuses an existing file even
    if one appeared while writing (a hard link does not replace).
    """
    path = check_output_path(path, argument, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    tmp = Path(name)
    try:
        write(tmp)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise FileExistsError(
                    f"{argument}: {path} appeared while it was being written; it was left as it is."
                ) from None
            except OSError:  # a file system without hard links: check, then rename
                if path.exists():
                    raise FileExistsError(f"{argument}: {path} exists; it was left as it is.") from None
                os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
