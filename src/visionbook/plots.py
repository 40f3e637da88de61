"""Figures the chapters share: image grids, curves, filters, feature maps.

Every function draws with matplotlib and returns the figure, so a notebook
shows it and a script can save it.  Nothing here trains or changes a model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from visionbook import data


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
    array = data.to_unit_range(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim not in (3, 4) or (array.ndim == 4 and array.shape[-1] != 3):
        raise ValueError(
            f"images have shape {np.shape(images)}; expected (n, h, w), "
            "(n, h, w, 1) or (n, h, w, 3)."
        )
    if titles is not None and len(titles) != len(array):
        raise ValueError(f"got {len(titles)} titles for {len(array)} images.")
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


def plot_history(
    history: dict[str, Sequence[float]],
    title: str = "Training",
    metrics: Sequence[str] = ("loss", "accuracy"),
) -> Figure:
    """Curves per epoch, from ``model.fit(...).history`` or a stored record.

    ``metrics`` names the curves, one panel each; by default loss and
    accuracy (a GAN passes ``("d_loss", "g_loss")`` and so on).
    """
    wanted = metrics
    metrics = [m for m in wanted if m in history]
    if not metrics:
        raise ValueError(f"history has none of {list(wanted)}: its keys are {sorted(history)}.")
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
    weights = np.asarray(kernel)
    if weights.ndim != 4:
        raise ValueError(
            f"kernel has shape {weights.shape}; expected (kh, kw, in, out), e.g. "
            "model.get_layer(name).get_weights()[0] of a Conv2D layer."
        )
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
    try:
        layer = model.get_layer(layer_name)
    except ValueError as err:
        names = ", ".join(layer.name for layer in model.layers)
        raise ValueError(f"model has no layer {layer_name!r}; its layers are: {names}.") from err
    _, height, width, channels = model.input_shape
    batch = data.as_batch(image, (height, width), channels)[:1]
    probe = keras.Model(model.input, layer.output)
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


def plot_confusion_matrix(
    y_true: object, y_pred: object, class_names: Sequence[str], normalize: bool = True
) -> Figure:
    """A confusion matrix (rows: true class; columns: predicted), via scikit-learn."""
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(7, 6))
    ConfusionMatrixDisplay.from_predictions(
        np.asarray(y_true),
        np.asarray(y_pred),
        labels=np.arange(len(class_names)),
        display_labels=list(class_names),
        normalize="true" if normalize else None,
        values_format=".2f" if normalize else "d",
        cmap="Blues",
        colorbar=False,
        ax=ax,
        xticks_rotation=45,
    )
    ax.set_title("confusion matrix" + (" (share of each true class)" if normalize else ""))
    fig.tight_layout()
    return fig


def image_grid(images: object, ncols: int = 8, padding: int = 1) -> np.ndarray:
    """Tile images into one uint8 mosaic (for animations and saved PNGs)."""
    array = data.to_unit_range(images)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 3:
        raise ValueError(f"images have shape {np.shape(images)}; expected (n, h, w) or (n, h, w, 1).")
    count, height, width = array.shape
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    grid = np.zeros((nrows * (height + padding) + padding, ncols * (width + padding) + padding), np.uint8)
    for i, image in enumerate(array):
        row, col = divmod(i, ncols)
        top, left = padding + row * (height + padding), padding + col * (width + padding)
        grid[top : top + height, left : left + width] = np.round(image * 255).astype(np.uint8)
    return grid


def save_animation(frames: Sequence[np.ndarray], path: str, seconds_per_frame: float = 0.4, scale: int = 3) -> str:
    """Write uint8 frames (e.g. from :func:`image_grid`) as a looping GIF; return the path."""
    from PIL import Image

    if len(frames) == 0:
        raise ValueError("no frames to animate.")
    pictures = [
        Image.fromarray(np.asarray(frame, np.uint8)).resize(
            (frame.shape[1] * scale, frame.shape[0] * scale), Image.NEAREST
        )
        for frame in frames
    ]
    pictures[0].save(
        path, save_all=True, append_images=pictures[1:], duration=int(seconds_per_frame * 1000), loop=0
    )
    return str(path)
