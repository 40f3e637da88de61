"""Figures the chapters share: image grids, curves, filters, feature maps.

Every function draws with matplotlib and returns the figure, so a notebook
shows it and a script can save it.  Nothing here trains or changes a model.
:func:`save_animation`, the one function that writes a file, never replaces
an existing one unless asked (``overwrite=True``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from visionbook import checks, data


def show_images(
    images: object,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    size: float = 1.4,
    cmap: str = "gray",
    suptitle: str | None = None,
) -> Figure:
    """Draw a grid of images (uint8 0..255 or floats in [0, 1]).

    Accepts ``(n, h, w)``, ``(n, h, w, 1)`` or ``(n, h, w, 3)``.
    """
    ncols = checks.check_positive_int(ncols, "ncols")
    size = checks.check_number(size, "size", low=0.0, low_open=True, high=MAX_INCHES)
    _check_cmap(cmap)
    array = data.to_unit_range(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] != 3):
        raise ValueError(
            f"images have shape {np.shape(images)}; expected (n, h, w), "
            f"(n, h, w, 1) or (n, h, w, 3).{_grid_fix(np.shape(images))}"
        )
    if titles is not None and (
        isinstance(titles, (str, bytes)) or not isinstance(titles, (Sequence, np.ndarray))
        or np.ndim(titles) != 1 or len(titles) != len(array)
    ):
        count = len(titles) if isinstance(titles, (Sequence, np.ndarray)) and np.ndim(titles) == 1 else repr(titles)
        raise ValueError(f"titles must be a list of {len(array)} strings, one per image, got {count}.")
    ncols = max(1, min(ncols, len(array)))
    nrows = math.ceil(len(array) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(array):
            ax.imshow(array[i], cmap=cmap, vmin=0.0, vmax=1.0)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


#: The largest size, in inches, of one image of a figure (matplotlib cannot draw much larger figures).
MAX_INCHES = 10.0


def _check_pixels(pixels: int, argument: str, value: object) -> None:
    """Refuse an image of ``pixels`` bytes too large for half this machine's memory."""
    limit = checks.physical_memory_bytes() // 2
    if pixels > limit:
        raise ValueError(
            f"{argument}={value!r} would make an image of {pixels:,} pixels, more than half this "
            f"machine's memory: choose a smaller {argument}."
        )


def _check_cmap(cmap: object) -> None:
    import matplotlib

    if not isinstance(cmap, str) or cmap not in matplotlib.colormaps:
        raise ValueError(f"cmap must be the name of a matplotlib colormap such as 'gray' or 'viridis', got {cmap!r}.")


def _grid_fix(shape: tuple[int, ...]) -> str:
    """The fix for a batch of images that is not ``(n, h, w[, 1 or 3])``."""
    if len(shape) == 4 and shape[1] in (1, 3) and shape[-1] not in (1, 3):
        return " The channel axis comes first (channels-first): move it last with np.moveaxis(x, 1, -1)."
    if len(shape) == 2:
        return " This is one image: pass [image] or image[None]."
    if len(shape) == 3 and shape[-1] in (3, 4):
        return " This looks like one colour image: pass image[None]."
    return ""


def plot_history(
    history: dict[str, Sequence[float]],
    title: str = "Training",
    metrics: Sequence[str] = ("loss", "accuracy"),
) -> Figure:
    """Curves per epoch, from ``model.fit(...).history`` or a stored record.

    ``metrics`` names the curves, one panel each; by default loss and
    accuracy (a GAN passes ``("d_loss", "g_loss")`` and so on).
    """
    if not isinstance(history, Mapping):
        raise TypeError(
            f"history must be a dict of per-epoch values (model.fit(...).history), got {type(history).__name__}."
        )
    if isinstance(metrics, str):
        metrics = (metrics,)
    wanted = metrics
    metrics = [m for m in wanted if m in history]
    if not metrics:
        raise ValueError(f"history has none of {list(wanted)}: its keys are {sorted(map(str, history))}.")
    for key in [*metrics, *(f"val_{m}" for m in metrics if f"val_{m}" in history)]:
        values = history[key]
        try:
            curve = np.asarray(values, dtype="float64")
        except (TypeError, ValueError) as err:
            raise TypeError(f"history[{key!r}] must be a list of numbers, one per epoch ({err}).") from err
        if curve.ndim != 1 or curve.size == 0:
            raise ValueError(f"history[{key!r}] must be a non-empty list of numbers, one per epoch, got shape {curve.shape}.")
    for metric in metrics:
        validation = f"val_{metric}"
        if validation in history and len(history[validation]) != len(history[metric]):
            raise ValueError(
                f"history[{validation!r}] has {len(history[validation])} values but "
                f"history[{metric!r}] has {len(history[metric])}: one per epoch each."
            )
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        epochs = np.arange(1, len(history[metric]) + 1)
        ax.plot(epochs, history[metric], "o-", label="training")
        if f"val_{metric}" in history:
            ax.plot(epochs, history[f"val_{metric}"], "s--", label="validation")
            ax.legend()
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_filters(kernel: object, max_filters: int = 32, size: float = 0.9) -> Figure:
    """Show the first input channel of each filter of a ``(kh, kw, in, out)`` kernel."""
    weights = checks.as_numeric_array(kernel, "kernel").astype("float64")
    if weights.ndim != 4:
        raise ValueError(
            f"kernel has shape {weights.shape}; expected (kh, kw, in, out), e.g. "
            "model.get_layer(name).get_weights()[0] of a Conv2D layer."
        )
    max_filters = checks.check_positive_int(max_filters, "max_filters")
    size = checks.check_number(size, "size", low=0.0, low_open=True, high=MAX_INCHES)
    count = min(max_filters, weights.shape[-1])
    ncols = min(8, count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    limit = float(np.abs(weights[..., 0, :count]).max()) or 1.0
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            ax.imshow(weights[:, :, 0, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
    fig.suptitle("filters (red positive, blue negative)", fontsize=9)
    fig.tight_layout()
    return fig


def plot_feature_maps(
    model: keras.Model, image: object, layer_name: str, max_maps: int = 16, size: float = 1.1
) -> Figure:
    """Show what one layer of ``model`` outputs for one image."""
    height, width, channels = checks.image_input_shape(model)
    max_maps = checks.check_positive_int(max_maps, "max_maps")
    size = checks.check_number(size, "size", low=0.0, low_open=True, high=MAX_INCHES)
    if not isinstance(layer_name, str):
        raise TypeError(f"layer_name must be a string, got {layer_name!r}.")
    try:
        layer = model.get_layer(layer_name)
    except ValueError as err:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"model has no layer {layer_name!r}; its layers are: {names}.") from err
    batch = data.as_batch(image, (height, width), channels, argument="image")[:1]
    probe = keras.Model(model.inputs[0], layer.output)  # inputs: Sequential models too
    maps = np.asarray(probe(batch, training=False))[0]
    if maps.ndim != 3:
        raise ValueError(f"layer {layer_name!r} outputs shape {maps.shape}, not feature maps.")
    count = min(max_maps, maps.shape[-1])
    ncols = min(8, count)
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            ax.imshow(maps[:, :, i], cmap="viridis")
    fig.suptitle(f"{layer_name}: {count} of {maps.shape[-1]} maps, {maps.shape[0]}x{maps.shape[1]}", fontsize=9)
    fig.tight_layout()
    return fig


#: Up to this many classes, :func:`plot_confusion_matrix` writes each cell's value.
MAX_ANNOTATED_CLASSES = 30


def plot_confusion_matrix(
    y_true: object, y_pred: object, class_names: Sequence[str], normalize: bool = True
) -> Figure:
    """A confusion matrix (rows: true class; columns: predicted), via scikit-learn.

    ``y_true`` and ``y_pred`` are class indices or names from ``class_names``;
    probabilities are refused with the fix (``np.argmax(p, axis=1)``).
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if (
        isinstance(class_names, (str, bytes)) or not isinstance(class_names, (Sequence, np.ndarray))
        or np.ndim(class_names) != 1 or len(class_names) < 2
    ):
        raise ValueError(f"class_names must be a list of at least 2 names, got {class_names!r}.")
    class_names = [str(name) for name in class_names]
    y_true = checks.as_class_indices(y_true, len(class_names), "y_true", class_names=class_names)
    y_pred = checks.as_class_indices(y_pred, len(class_names), "y_pred", class_names=class_names)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}: one each per image.")
    normalize = checks.check_flag(normalize, "normalize")
    fig, ax = plt.subplots(figsize=(7, 6))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=np.arange(len(class_names)),
        display_labels=list(class_names),
        normalize="true" if normalize else None,
        values_format=".2f" if normalize else "d",
        cmap="Blues",
        colorbar=False,
        ax=ax,
        xticks_rotation=45,
        # One number per cell is readable up to a few dozen classes; beyond
        # that the colours carry the matrix, and thousands of labels would
        # take minutes to draw.
        include_values=len(class_names) <= MAX_ANNOTATED_CLASSES,
    )
    ax.set_title("confusion matrix" + (" (share of each true class)" if normalize else ""))
    fig.tight_layout()
    return fig


def image_grid(images: object, ncols: int = 8, padding: int = 1) -> np.ndarray:
    """Tile images into one uint8 mosaic (for animations and saved PNGs)."""
    ncols = checks.check_positive_int(ncols, "ncols")
    padding = checks.check_positive_int(padding, "padding", minimum=0)
    array = data.to_unit_range(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise ValueError(
            f"images have shape {np.shape(images)}; expected (n, h, w) or (n, h, w, 1)."
            + (" Colour images: convert them to grayscale first (skimage.color.rgb2gray(x))."
               if array.ndim == 4 and array.shape[-1] in (3, 4) else _grid_fix(np.shape(images)))
        )
    count, height, width = array.shape
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    _check_pixels((nrows * (height + padding) + padding) * (ncols * (width + padding) + padding), "padding", padding)
    grid = np.zeros((nrows * (height + padding) + padding, ncols * (width + padding) + padding), np.uint8)
    for i, image in enumerate(array):
        row, col = divmod(i, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top : top + height, left : left + width] = np.round(image * 255).astype(np.uint8)
    return grid


def save_animation(
    frames: Sequence[np.ndarray],
    path: str,
    seconds_per_frame: float = 0.4,
    scale: int = 3,
    *,
    overwrite: bool = False,
) -> str:
    """Write uint8 frames (e.g. from :func:`image_grid`) as a looping GIF; return the path.

    An existing file at ``path`` is kept (``FileExistsError``) unless
    ``overwrite=True``; the GIF is written to a temporary name first, so an
    interrupted call leaves no half-written file.
    """
    from PIL import Image

    target = checks.check_output_path(path, "path", overwrite=overwrite, suffixes=(".gif",))
    if isinstance(frames, np.ndarray) and frames.ndim in (3, 4):
        frames = list(frames)
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Sequence) or len(frames) == 0:
        raise ValueError("frames must be a non-empty list of uint8 images (e.g. from image_grid).")
    seconds_per_frame = checks.check_number(seconds_per_frame, "seconds_per_frame", low=0.0, low_open=True)
    scale = checks.check_positive_int(scale, "scale")
    checked = []
    for i, frame in enumerate(frames):
        array = checks.as_numeric_array(frame, f"frames[{i}]")
        if array.dtype != np.uint8 or not (
            array.ndim == 2 or (array.ndim == 3 and array.shape[-1] in (3, 4))
        ) or array.shape[:2] != np.shape(frames[0])[:2]:
            raise ValueError(
                f"frames[{i}] has shape {array.shape} and dtype {array.dtype}; every frame must be a "
                "uint8 image of the first frame's size, (h, w) or (h, w, 3), such as image_grid returns."
            )
        checked.append(array)
    _check_pixels(sum(frame.size for frame in checked) * scale * scale, "scale", scale)
    pictures = [
        Image.fromarray(frame).resize((frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST)
        for frame in checked
    ]
    checks.write_file(
        target,
        lambda tmp: pictures[0].save(
            tmp, format="GIF", save_all=True, append_images=pictures[1:],
            duration=int(seconds_per_frame * 1000), loop=0,
        ),
        overwrite=overwrite,
        argument="path",
    )
    return str(path)
