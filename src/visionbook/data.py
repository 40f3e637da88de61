"""Datasets the book uses, all of which work offline once installed.

Fashion-MNIST is read from a folder you name (the ``data_dir`` argument or
the ``VISIONBOOK_FASHION_MNIST_DIR`` variable), which is used or refused,
never replaced by another copy; without one, from Keras's own cache or
Debian's ``dataset-fashion-mnist`` package, and only downloaded through
:mod:`keras.datasets` when no copy exists and the network allows. Every file
is checked by SHA-256. The small scikit-learn and scikit-image datasets ship
inside those packages.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from visionbook import checks

FASHION_MNIST_CLASSES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Environment variable naming a folder that holds the four Fashion-MNIST files.
DATA_DIR_ENV = "VISIONBOOK_FASHION_MNIST_DIR"

#: Where Debian's package ``dataset-fashion-mnist`` installs the files.
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")

#: SHA-256 of each file's *decompressed* bytes.  Debian re-compresses the
#: files, so the ``.gz`` archives differ from the ones Keras downloads, but the
#: data inside is byte-for-byte the same; hashing it accepts both copies.
FASHION_MNIST_SHA256: dict[str, str] = {
    "train-images-idx3-ubyte.gz": (
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"
    ),
    "train-labels-idx1-ubyte.gz": (
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"
    ),
}

_HOW_TO_GET = (
    "Ways to get Fashion-MNIST:\n"
    "  1. Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist\n"
    "     (installs the files under /usr/share/datasets/fashion-mnist/)\n"
    "  2. With internet: python -c 'import keras; "
    "keras.datasets.fashion_mnist.load_data()'\n"
    "     (downloads them into ~/.keras/datasets/fashion-mnist/)\n"
    f"  3. Put the four .gz files in a folder and set {DATA_DIR_ENV}=that/folder\n"
    "     or pass load_fashion_mnist(data_dir=...)."
)


class DatasetError(OSError, ValueError):
    """A dataset file is missing, damaged or foreign; the message says how to get it.

    A file problem, so an ``OSError``; also a ``ValueError`` (the file's
    content is wrong), so either ``except`` catches it.
    """


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """The dataset, or a folder named to hold it, is not there."""


def _keras_cache_dir() -> Path:
    base = os.environ.get("KERAS_HOME", str(Path.home() / ".keras"))
    return Path(base) / "datasets" / "fashion-mnist"


def _named_folder(data_dir: object) -> tuple[Path, str] | None:
    """The folder the caller named (argument first, then the variable) and how, or None."""
    if data_dir is not None:
        return checks.check_path(data_dir, "data_dir"), "data_dir"
    if os.environ.get(DATA_DIR_ENV, "").strip():
        return Path(os.environ[DATA_DIR_ENV]), f"{DATA_DIR_ENV} (environment variable)"
    return None


def fashion_mnist_search_path(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for Fashion-MNIST, in order of preference.

    A folder named by ``data_dir`` (or else by ``VISIONBOOK_FASHION_MNIST_DIR``)
    is the only one: it is used or refused, never silently replaced by
    another copy. Without one, Keras's cache and then Debian's folder.
    """
    named = _named_folder(data_dir)
    if named is not None:
        return [named[0]]
    return [_keras_cache_dir(), DEBIAN_DIR]


def _check_named_folder(folder: Path, how: str) -> None:
    """A named folder must hold the four files; say exactly what is missing."""
    refused = (
        "No other copy was used: a folder you name is used or refused. Fix it, "
        f"or name none (neither data_dir nor {DATA_DIR_ENV}) to use the usual places."
    )
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist (is it misspelt?)"
        raise DatasetNotFoundError(f"{how}: {folder} {what}. {refused}")
    missing = [name for name in FASHION_MNIST_SHA256 if not (folder / name).is_file()]
    if missing:
        present = sorted(p.name for p in folder.iterdir())[:8]
        raise DatasetNotFoundError(
            f"{how}: {folder} lacks {', '.join(missing)} (it holds {present or 'nothing'}); it must hold "
            f"all four Fashion-MNIST files, {', '.join(FASHION_MNIST_SHA256)}, under these names. {refused}"
        )


def _read_idx(path: Path) -> tuple[np.ndarray, str]:
    """Decompress one IDX file; return its array and the SHA-256 of its bytes."""
    try:
        with gzip.open(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as err:
        raise DatasetError(
            f"{path} is not a readable gzip file ({err}). It was left in place; "
            f"delete or replace it.\n{_HOW_TO_GET}"
        ) from err
    digest = hashlib.sha256(raw).hexdigest()
    ndim = raw[3] if len(raw) > 4 else 0
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is too short to be an IDX file.\n{_HOW_TO_GET}")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=header)
    if data.size != int(np.prod(dims)):
        raise DatasetError(
            f"{path} holds {data.size} values but its header says {dims}: the file "
            f"is truncated or damaged. It was left in place.\n{_HOW_TO_GET}"
        )
    return data.reshape(dims), digest


def first_complete_folder(folders: Iterable[Path]) -> Path | None:
    """The first of ``folders`` that holds all four Fashion-MNIST files, or None."""
    for folder in folders:
        if all((folder / name).is_file() for name in FASHION_MNIST_SHA256):
            return folder
    return None


def _download_with_keras() -> tuple[Path | None, str]:
    """Let Keras download the files; return its cache folder, or None and why not.

    Every failure (no network, a proxy, a blocked host) ends the attempt with
    its reason instead of an exception, and a socket timeout bounds a network
    that neither answers nor refuses, so an offline machine gets the clear
    "not found" error of :func:`load_fashion_mnist`, never a hang.
    """
    import socket
    import sys

    import keras

    print(
        "Fashion-MNIST is not on disk: downloading it through keras.datasets (30 MB).",
        file=sys.stderr,
    )
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(15)
    try:
        keras.datasets.fashion_mnist.load_data()
    except Exception as err:  # no network, proxy, blocked host: all mean "not available"
        return None, f"{type(err).__name__}: {err}"
    finally:
        socket.setdefaulttimeout(previous)
    return _keras_cache_dir(), ""


def _load_verified(folder: Path) -> dict[str, np.ndarray]:
    """Read and verify the four files of ``folder`` (cached per file state)."""
    state = tuple(
        (name, (folder / name).stat().st_mtime_ns, (folder / name).stat().st_size)
        for name in FASHION_MNIST_SHA256
    )
    return _load_verified_cached(str(folder), state)


@functools.lru_cache(maxsize=2)
def _load_verified_cached(folder_name: str, state: tuple) -> dict[str, np.ndarray]:
    folder = Path(folder_name)
    arrays = {}
    for name, expected in FASHION_MNIST_SHA256.items():
        array, digest = _read_idx(folder / name)
        if digest != expected:
            raise DatasetError(
                f"{folder / name} has SHA-256 {digest} (of its decompressed data), "
                f"expected {expected}: the file is damaged or is not Fashion-MNIST. "
                f"It was left in place; replace it.\n{_HOW_TO_GET}"
            )
        arrays[name] = array
    return arrays


def load_fashion_mnist(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load Fashion-MNIST as ``keras.datasets.fashion_mnist.load_data()`` does.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape
    ``(n, 28, 28)`` in 0..255 and uint8 labels in 0..9 (names in
    :data:`FASHION_MNIST_CLASSES`).  Every file is checked against its
    SHA-256; a damaged file is reported and left untouched.
    """
    checks.check_flag(download, "download")
    named = _named_folder(data_dir)
    if named is not None:
        _check_named_folder(*named)
    searched = fashion_mnist_search_path(data_dir)
    folder = first_complete_folder(searched)
    failure = ""
    if folder is None and download:
        folder, failure = _download_with_keras()
    if folder is None:
        where = "\n".join(f"  - {p}" for p in searched)
        tried = (
            f"The download through Keras failed (no network?): {failure}\n"
            if download
            else "No download was tried (download=False).\n"
        )
        raise DatasetNotFoundError(
            f"Fashion-MNIST was not found. Looked in:\n{where}\n{tried}{_HOW_TO_GET}"
        )
    arrays = {name: array.copy() for name, array in _load_verified(folder).items()}
    return (
        (arrays["train-images-idx3-ubyte.gz"], arrays["train-labels-idx1-ubyte.gz"]),
        (arrays["t10k-images-idx3-ubyte.gz"], arrays["t10k-labels-idx1-ubyte.gz"]),
    )


# --------------------------------------------------------------------------
# Small datasets bundled with scikit-learn and scikit-image
# --------------------------------------------------------------------------

#: Photos that ship inside scikit-image (no download) or scikit-learn.
BUNDLED_PHOTOS: tuple[str, ...] = (
    "astronaut",
    "camera",
    "cell",
    "chelsea",
    "coffee",
    "coins",
    "moon",
    "rocket",
    "china",
    "flower",
)


def load_photo(name: str = "chelsea") -> np.ndarray:
    """Return a bundled photo as a uint8 array, ``(h, w)`` or ``(h, w, 3)``.

    ``china`` and ``flower`` come from scikit-learn's sample images, the rest
    from :mod:`skimage.data`; none needs the network.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a photo's name (str), one of {', '.join(BUNDLED_PHOTOS)}; got {name!r}.")
    if name not in BUNDLED_PHOTOS:
        raise ValueError(
            f"Unknown photo {name!r}. Choose one of: {', '.join(BUNDLED_PHOTOS)}."
        )
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(f"{name}.jpg"))
    import skimage.data

    return np.asarray(getattr(skimage.data, name)())


def load_digits_images() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits as ``(n, 8, 8)`` floats in [0, 1]."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype("float32"), digits.target.astype("uint8")


# --------------------------------------------------------------------------
# Value ranges and shapes: the conversions every chapter needs
# --------------------------------------------------------------------------


def to_unit_range(images: object, *, argument: str = "images") -> np.ndarray:
    """Convert uint8 images in 0..255 to float32 in [0, 1].

    Float input is accepted only if it already lies in [0, 1], so an array
    that was scaled twice (or never) is caught here instead of silently
    training a model on the wrong range.
    """
    array = checks.as_numeric_array(images, argument)
    if np.issubdtype(array.dtype, np.integer):
        if array.min() < 0 or array.max() > 255:
            raise ValueError(
                f"{argument} are integers outside 0..255 "
                f"(min {array.min()}, max {array.max()}): expected 8-bit pixels "
                "(uint8 0..255) or floats in [0, 1]; rescale them."
            )
        # One float32 array, divided in place: the obvious (array / 255.0)
        # first builds a float64 array twice the size, and fresh memory is
        # slow to hand out (the 60,000 training images took about 5 s that
        # way on a 2-core VM, 0.05 to 2 s this way). float32 division rounds
        # correctly, so every value equals the float64 route's, rounded.
        unit = array.astype("float32")
        unit /= np.float32(255.0)
        return unit
    array = checks.to_float32(array)
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        hint = (
            "divide by 255" if high > 1.0 and low >= 0.0 and high <= 255.0
            else "use to_unit_range(from_tanh_range(x)) for [-1, 1] data"
            if low >= -1.0 and high <= 1.0
            else "rescale it"
        )
        raise ValueError(
            f"{argument} are floats in [{low:.3g}, {high:.3g}] but [0, 1] was "
            f"expected: {hint}."
        )
    return array


def to_tanh_range(images: object, *, argument: str = "images") -> np.ndarray:
    """Map images to [-1, 1], the range of a ``tanh`` generator's output."""
    array = to_unit_range(images, argument=argument)  # always a new array: safe to change in place
    array *= 2.0
    array -= 1.0
    return array


def from_tanh_range(images: object, *, argument: str = "images") -> np.ndarray:
    """Map [-1, 1] images (a ``tanh`` output) back to [0, 1]."""
    array = checks.to_float32(checks.as_numeric_array(images, argument))
    if array.min() < -1.0 - 1e-6 or array.max() > 1.0 + 1e-6:
        raise ValueError(
            f"{argument} lie in [{array.min():.3g}, {array.max():.3g}], outside "
            "[-1, 1]: they are not tanh outputs."
        )
    return np.clip((array + 1.0) / 2.0, 0.0, 1.0)


def as_batch(
    images: object,
    size: tuple[int, int] = (28, 28),
    channels: int = 1,
    *,
    argument: str = "images",
) -> np.ndarray:
    """Return a float32 batch ``(n, height, width, channels)`` in [0, 1].

    Accepts one image or many, with or without the channel axis, as uint8
    0..255 or float 0..1; anything else gets an error that says what was
    expected and how to fix it.
    """
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"size must be a pair (height, width), got {size!r}.")
    height = checks.check_positive_int(size[0], "size[0] (height)")
    width = checks.check_positive_int(size[1], "size[1] (width)")
    channels = checks.check_positive_int(channels, "channels")
    array = to_unit_range(images, argument=argument)
    if array.ndim == 2:
        array = array[None, :, :, None]
    elif array.ndim == 3 and array.shape[-1] == channels and array.shape[:2] == (height, width):
        array = array[None]
    elif array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[1:] != (height, width, channels):
        raise ValueError(
            f"{argument} have shape {np.shape(images)}, but ({height}, {width}) "
            f"images with {channels} channel(s) were expected, as (n, {height}, "
            f"{width}, {channels}), (n, {height}, {width}) or a single image. "
            + _shape_fix(np.shape(images), height, width, channels)
        )
    return array


def _shape_fix(shape: tuple[int, ...], height: int, width: int, channels: int) -> str:
    """The fix for images of ``shape`` that are not ``(n, height, width, channels)``."""
    size = (height, width)
    colour_to_grey = "Convert colour to grayscale first (skimage.color.rgb2gray(x))."
    if len(shape) == 4 and shape[1:3] == size:
        if channels == 1 and shape[3] in (3, 4):
            return colour_to_grey
        if channels == 3 and shape[3] == 1:
            return "Repeat the gray channel for colour: np.repeat(x, 3, axis=-1)."
        return f"This model takes {channels} channel(s), these images have {shape[3]}."
    if len(shape) == 4 and shape[2:] == size:
        return "The channel axis comes first (channels-first): move it last with np.moveaxis(x, 1, -1)."
    if len(shape) == 3 and shape[:2] == size and shape[2] in (3, 4) and channels == 1:
        return "This is one colour image: " + colour_to_grey
    if len(shape) == 3 and shape[1:] == size and shape[0] == channels:
        return "This is one channels-first image: move the channels last with np.moveaxis(x, 0, -1)."
    if len(shape) > 4 and all(d == 1 for d in shape[4:]):
        return f"There are extra axes of length 1: np.squeeze them, e.g. x.reshape(-1, {height}, {width}, {channels})."
    if len(shape) == 1 and shape[0] % (height * width) == 0 and shape[0]:
        return f"These are flat pixels: reshape them, x.reshape(-1, {height}, {width})."
    if len(shape) == 2 and shape[1] == height * width:
        return f"Each row is a flattened image: reshape them, x.reshape(-1, {height}, {width})."
    return "Resize them first (skimage.transform.resize)."


def fashion_mnist_for_training(
    data_dir: str | os.PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Fashion-MNIST as model input: float32 ``(n, 28, 28, 1)`` in [0, 1]."""
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(data_dir)
    return (as_batch(x_train), y_train), (as_batch(x_test), y_test)


def without_autotuning(dataset: Any) -> Any:
    """``dataset`` (a ``tf.data.Dataset``) with tf.data's autotuning switched off.

    By default tf.data keeps tuning its buffer sizes and thread counts while
    a model trains, on threads of its own. On a 2-core CPU those threads
    compete with the training step for the two cores: fed by a tuned
    pipeline, the book's CNN trained most epochs about a quarter slower
    (the table of removed investigations in ``benchmarks/README.md``; the
    GAN's slower step showed little difference). The book's pipelines
    (shuffle, batch, prefetch two batches) have nothing to tune, and
    switching the tuner off changes neither the order of the batches nor the
    results.
    """
    import tensorflow as tf

    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(f"dataset must be a tf.data.Dataset, got {type(dataset).__name__}.")
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def shuffled_batches(elements: Any, batch_size: int, seed: int) -> Any:
    """The book's training pipeline over ``elements``: an array, or a tuple of equally long arrays.

    Slice, shuffle all elements with a fixed seed (a new order each epoch,
    the same orders in every run), batch, and prefetch two batches so that
    the next is ready while the model trains, with tf.data's autotuning off
    (:func:`without_autotuning`): the pipeline chapter 4 writes out. Callers
    check their arguments first (:func:`cnn.training_batches`,
    :func:`vae.training_batches`).
    """
    import tensorflow as tf

    count = len(elements[0]) if isinstance(elements, tuple) else len(elements)
    return without_autotuning(
        tf.data.Dataset.from_tensor_slices(elements)
        .shuffle(count, seed=seed)
        .batch(batch_size)
        .prefetch(2)
    )
