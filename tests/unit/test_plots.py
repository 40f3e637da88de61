"""visionbook.plots: every figure draws, and bad input is explained."""

import matplotlib
import numpy as np
import pytest

from visionbook import cnn, plots

matplotlib.use("Agg")


def test_show_images_grid():
    fig = plots.show_images(np.zeros((10, 28, 28), np.uint8), titles=[str(i) for i in range(10)], ncols=5)
    assert len([ax for ax in fig.axes if ax.images]) == 10


def test_show_images_rejects_bad_input():
    with pytest.raises(ValueError, match="titles"):
        plots.show_images(np.zeros((2, 8, 8)), titles=["one"])
    with pytest.raises(ValueError, match="divide by 255"):
        plots.show_images(np.full((2, 8, 8), 9.0))


def test_history_filters_feature_maps_confusion():
    assert plots.plot_history({"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}).axes
    with pytest.raises(ValueError, match="loss"):
        plots.plot_history({"lr": [1]})
    model = cnn.create_fashion_cnn()
    conv = next(layer for layer in model.layers if layer.name.startswith("conv2d"))
    assert plots.plot_filters(conv.get_weights()[0]).axes
    with pytest.raises(ValueError, match="kh, kw, in, out"):
        plots.plot_filters(np.zeros((3, 3)))
    assert plots.plot_feature_maps(model, np.zeros((28, 28), np.uint8), conv.name).axes
    with pytest.raises(ValueError, match="no layer"):
        plots.plot_feature_maps(model, np.zeros((28, 28), np.uint8), "nope")
    fig = plots.plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], ["a", "b", "c"])
    assert fig.axes
