"""Tools of the bad-input properties: input strategies, tiny models, the verdict.

:func:`attempt` runs one call and accepts exactly two outcomes: a result
(which the property then checks), or a ``ValueError``/``TypeError`` that was
raised inside ``visionbook`` itself (not deep in TensorFlow, NumPy or
matplotlib) and whose message names one of the arguments.  Anything else
(another exception type, a raw library error, a call that runs past
:data:`TIME_LIMIT` seconds) fails the property, and Hypothesis shrinks it to
a minimal example.
"""

from __future__ import annotations

import math
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import visionbook  # noqa: F401  (quietens TensorFlow first)
import keras

PACKAGE = Path(visionbook.__file__).resolve().parent
TIME_LIMIT = 300  # seconds; generous (a slow, busy machine): this catches hangs, it does not time anything
CASES: Counter[str] = Counter()
REJECTED: Counter[str] = Counter()
#: Named mistakes of test_mistake_kinds.py, per kind: tried, and ended as they must.
KINDS: Counter[str] = Counter()
KINDS_CLEAR: Counter[str] = Counter()


class UnclearError(AssertionError):
    """A call failed in a way a reader could not act on."""


@contextmanager
def time_limit(seconds: float):
    def expire(signum: int, frame: Any) -> None:  # noqa: ARG001
        raise TimeoutError(f"the call ran past {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def raised_in_package(err: BaseException) -> bool:
    """Whether the innermost frame of ``err``'s traceback is visionbook's own code."""
    tb = err.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE)


def check_clear(err: BaseException, names: Iterable[str]) -> None:
    names = tuple(names)
    message = str(err)
    if not raised_in_package(err):
        raise UnclearError(
            f"{type(err).__name__} came from inside a library, not from visionbook's own "
            f"checks: {message[:500]}"
        ) from err
    if not any(name in message for name in names):
        raise UnclearError(f"the message names none of {names}: {message[:500]}") from err


def attempt(
    prop: str,
    call: Callable[[], Any],
    names: Iterable[str],
    clear_errors: tuple[type[BaseException], ...] = (ValueError, TypeError),
) -> tuple[bool, Any]:
    """Run ``call``: ``(True, result)``, or ``(False, error)`` for a clear error."""
    CASES[prop] += 1
    try:
        with time_limit(TIME_LIMIT):
            result = call()
    except clear_errors as err:
        check_clear(err, names)
        REJECTED[prop] += 1
        return False, err
    finally:
        if prop.startswith("plots."):
            import matplotlib.pyplot as plt

            plt.close("all")
    return True, result


def expect(ok: bool, valid: bool, outcome: Any, what: str) -> None:
    """Fail when a valid input was refused or an invalid one was accepted."""
    if valid and not ok:
        raise AssertionError(f"{what}: a valid input was refused: {outcome}")
    if ok and not valid:
        raise AssertionError(f"{what}: an invalid input was accepted")


# --------------------------------------------------------------------------
# Input strategies
# --------------------------------------------------------------------------

IMAGE_SHAPES: tuple[tuple[int, ...], ...] = (
    (28, 28), (1, 28, 28), (3, 28, 28), (3, 28, 28, 1), (2, 28, 28, 3), (2, 28, 28, 2),
    (28, 28, 1), (28, 28, 3), (0, 28, 28), (3, 32, 32), (2, 28, 28, 1, 1), (28,), (),
    (3, 28), (2, 8, 8), (2, 8, 8, 3),
)

PIXEL_KINDS = (
    "uint8", "int_ok", "unit32", "unit64", "half", "bool", "scaled255", "tanh", "nan",
    "inf", "-inf", "neg_int", "big_int", "huge", "complex", "str", "object", "ragged",
)
LATENT_KINDS = ("normal", "normal32", "int_ok", "nan", "inf", "huge", "complex", "str", "object", "bool", "ragged")


def make_array(kind: str, shape: tuple[int, ...], rng: np.random.Generator) -> Any:
    size = math.prod(shape)
    if kind == "uint8":
        return rng.integers(0, 256, shape).astype(np.uint8)
    if kind == "label":
        return rng.integers(0, 3, shape)
    if kind == "int_ok":
        return rng.integers(0, 256, shape)
    if kind == "unit32":
        return rng.random(shape, dtype=np.float32)
    if kind == "unit64":
        return rng.random(shape)
    if kind == "half":
        return rng.random(shape).astype(np.float16)
    if kind == "bool":
        return rng.random(shape) > 0.5
    if kind == "scaled255":
        return rng.random(shape) * 255.0
    if kind == "tanh":
        return rng.uniform(-1.0, 1.0, shape)
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "normal32":
        return rng.standard_normal(shape).astype(np.float32)
    if kind in ("nan", "inf", "-inf"):
        array = rng.random(shape)
        if size:
            array.flat[rng.integers(size)] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
        return array
    if kind == "neg_int":
        return rng.integers(-300, 0, shape)
    if kind == "big_int":
        return rng.integers(256, 100_000, shape)
    if kind == "huge":
        return np.full(shape, 1e300)
    if kind == "complex":
        return (rng.random(shape) + 1j * rng.random(shape)).astype(np.complex64)
    if kind == "str":
        return np.full(shape, "ab")
    if kind == "object":
        array = np.empty(shape, dtype=object)
        array.fill(None)
        return array
    if kind == "ragged":
        return [[0.0, 0.5], [0.25]]
    raise KeyError(kind)


@st.composite
def arrays(
    draw: st.DrawFn,
    shapes: Sequence[tuple[int, ...]] = IMAGE_SHAPES,
    kinds: Sequence[str] = PIXEL_KINDS,
    random_shapes: bool = True,
) -> Any:
    """Arrays of many shapes, dtypes and value ranges, sometimes as nested lists."""
    if random_shapes and draw(st.integers(0, 5)) == 0:
        shape = draw(hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5))
    else:
        shape = draw(st.sampled_from(list(shapes)))
    kind = draw(st.sampled_from(list(kinds)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    value = make_array(kind, shape, rng)
    if isinstance(value, np.ndarray) and value.size <= 4096 and draw(st.integers(0, 5)) == 0:
        value = value.tolist()  # the same data as plain Python lists
    return value


def pool(valid: Sequence[Any], invalid: Sequence[Any]) -> st.SearchStrategy[tuple[Any, bool]]:
    """A value with its verdict: ``(value, True)`` for valid ones."""
    return st.sampled_from([(v, True) for v in valid] + [(v, False) for v in invalid])


def draw_arguments(
    draw: st.DrawFn, table: dict[str, tuple[Sequence[Any], Sequence[Any]]], kwargs: dict[str, Any],
    valid: bool = True, min_size: int = 1,
) -> tuple[dict[str, Any], bool]:
    """``kwargs`` with one or two arguments of ``table`` (name -> (valid values, invalid values)) drawn."""
    kwargs = dict(kwargs)
    for argument in draw(st.lists(st.sampled_from(sorted(table)), min_size=min_size, max_size=2, unique=True)):
        value, ok = draw(pool(*table[argument]))
        kwargs[argument], valid = value, valid and ok
    return kwargs, valid


POSITIVE_INTS = pool([1, 3, np.int64(2)], [0, -1, 2.5, True, "3", None, float("nan")])
NON_NEGATIVE_INTS = pool([0, 7, np.int32(5), 2**40], [-1, 1.5, True, "0", None])
SEEDS = pool([0, 7, np.int32(5), 2**32 - 1], [-1, 1.5, True, "0", None, 2**32])


# --------------------------------------------------------------------------
# Reference answers (oracles)
# --------------------------------------------------------------------------


def as_numpy(value: Any) -> np.ndarray | None:
    try:
        return np.asarray(value)
    except (ValueError, TypeError):
        return None


def unit_range_ok(value: Any) -> bool:
    """Whether ``data.to_unit_range`` must accept ``value``."""
    a = as_numpy(value)
    if a is None or a.dtype.kind not in "buif" or a.size == 0:
        return False
    if a.dtype.kind in "iu":
        return bool(a.min() >= 0 and a.max() <= 255)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)):
            return False
        with np.errstate(over="ignore"):
            f = a.astype(np.float32)
        return bool(np.all(np.isfinite(f)) and f.min() >= 0.0 and f.max() <= 1.0)
    return True


def unit_range_result(value: Any) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind in "iu":
        return (a / 255.0).astype(np.float32)
    return a.astype(np.float32)


def batch_shape(shape: tuple[int, ...], size: tuple[int, int], channels: int) -> tuple[int, ...] | None:
    """The batch shape ``data.as_batch`` must return for an input of ``shape``, or None."""
    height, width = size
    if len(shape) == 2:
        shape = (1, *shape, 1)
    elif len(shape) == 3 and shape[-1] == channels and shape[:2] == (height, width):
        shape = (1, *shape)
    elif len(shape) == 3:
        shape = (*shape, 1)
    return shape if len(shape) == 4 and shape[1:] == (height, width, channels) else None


def image_batch_ok(value: Any, size: tuple[int, int] = (28, 28), channels: int = 1) -> bool:
    a = as_numpy(value)
    return unit_range_ok(value) and batch_shape(a.shape, size, channels) is not None


def latent_ok(value: Any, latent_dim: int) -> bool:
    a = as_numpy(value)
    if a is None or a.dtype.kind not in "buif" or a.size == 0:
        return False
    with np.errstate(over="ignore"):
        f = a.astype(np.float32)
    if not np.all(np.isfinite(f)):
        return False
    return (a.ndim == 1 and a.shape[0] == latent_dim) or (a.ndim == 2 and a.shape[1] == latent_dim)


def latent_count(value: Any) -> int:
    a = np.asarray(value)
    return 1 if a.ndim == 1 else a.shape[0]


# --------------------------------------------------------------------------
# Tiny models: fast to call, with the book's input and output forms
# --------------------------------------------------------------------------

_MODELS: dict[str, keras.Model] = {}


def model(kind: str) -> keras.Model:
    """A small model of a given role, built once per test session."""
    if kind not in _MODELS:
        keras.utils.set_random_seed(0)
        _MODELS[kind] = _build(kind)
    return _MODELS[kind]


ROLES = (
    "classifier", "classifier3", "rgb_classifier", "generator", "generator16", "encoder", "decoder", "decoder6",
    "discriminator", "cgenerator", "cdiscriminator",
)


def build_all() -> None:
    """Build every tiny model now, so strategies only look them up (no randomness inside them)."""
    for kind in ROLES:
        model(kind)


def _build(kind: str) -> keras.Model:
    from keras import layers

    from visionbook import cnn, vae

    if kind in ("classifier", "classifier3", "rgb_classifier"):
        return cnn.create_cnn_model(
            (28, 28, 3 if kind == "rgb_classifier" else 1), 3 if kind == "classifier3" else 10,
            (4,), (1,), batch_norm=False, pooling=True, head="flatten", dense_units=8, name=kind,
        )
    if kind in ("generator", "generator16"):
        noise = keras.Input((8 if kind == "generator" else 16,))
        x = layers.Dense(28 * 28)(noise)
        image = layers.Activation("tanh")(layers.Reshape((28, 28, 1))(x))
        return keras.Model(noise, image, name=kind)
    if kind == "encoder":
        return vae.create_encoder(latent_dim=4, filters=(4, 4), dense_units=8, seed=0)
    if kind == "decoder":
        return vae.create_decoder(latent_dim=4, filters=(4, 4))
    if kind == "decoder6":
        return vae.create_decoder(latent_dim=6, filters=(4, 4))
    if kind == "discriminator":
        image = keras.Input((28, 28, 1))
        return keras.Model(image, layers.Dense(1)(layers.Flatten()(image)), name=kind)
    if kind == "cgenerator":  # (noise (8,), label ()) -> image, 10 classes, as cgan builds it
        noise, label = keras.Input((8,), name="noise"), keras.Input((), dtype="int32", name="label")
        request = layers.Embedding(10, 4, name="label_embedding")(label)
        x = layers.Dense(28 * 28)(layers.Concatenate()([noise, request]))
        return keras.Model([noise, label], layers.Activation("tanh")(layers.Reshape((28, 28, 1))(x)), name=kind)
    if kind == "cdiscriminator":  # (image, label) -> one logit
        image, label = keras.Input((28, 28, 1), name="image"), keras.Input((), dtype="int32", name="label")
        features = layers.Dense(4)(layers.Flatten()(image))
        agreement = layers.Dot(axes=1)([features, layers.Embedding(10, 4)(label)])
        return keras.Model([image, label], layers.Add()([layers.Dense(1)(features), agreement]), name=kind)
    raise KeyError(kind)


def models(*kinds: str, junk: bool = True) -> st.SearchStrategy[tuple[Any, str]]:
    """One of the named tiny models, or (with ``junk``) something that is no model."""
    choices: list[tuple[Any, str]] = [(kind, kind) for kind in kinds]
    if junk:
        choices += [("<str>", "junk"), ("<none>", "junk"), ("<array>", "junk")]
    return st.sampled_from(choices).map(_resolve)


def _resolve(choice: tuple[Any, str]) -> tuple[Any, str]:
    key, kind = choice
    if kind == "junk":
        return {"<str>": "model.keras", "<none>": None, "<array>": np.zeros((2, 2))}[key], "junk"
    if key not in _MODELS:
        raise RuntimeError("call fuzzkit.build_all() before drawing models")
    return _MODELS[key], kind


def save_models(folder: Path) -> Path:
    """Files the sampling command is given: a generator, a classifier and a damaged file."""
    model("generator").save(folder / "generator.keras")
    model("classifier").save(folder / "classifier.keras")
    (folder / "junk.keras").write_bytes(b"junk")
    return folder
