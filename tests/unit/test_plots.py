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


def test_save_animation_keeps_an_existing_file(tmp_path):
    frames = [np.zeros((4, 5), np.uint8), np.full((4, 5), 99, np.uint8)]
    path = tmp_path / "mine.gif"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        plots.save_animation(frames, str(path))
    assert path.read_bytes() == b"mine"
    assert plots.save_animation(frames, str(path), overwrite=True) == str(path)
    assert path.read_bytes()[:3] == b"GIF"
    with pytest.raises(ValueError, match=r"\.gif"):
        plots.save_animation(frames, str(tmp_path / "grid.png"))


def test_confusion_matrix_takes_names_and_explains_probabilities():
    names = ["cat", "dog", "bird"]
    assert plots.plot_confusion_matrix(["cat", "Dog"], [0, 1], names).axes
    with pytest.raises(ValueError, match=r"np\.argmax"):
        plots.plot_confusion_matrix([0, 1], np.array([[0.9, 0.05, 0.05], [0.1, 0.8, 0.1]]), names)
    with pytest.raises(ValueError, match="unknown class 'cow'"):
        plots.plot_confusion_matrix(["cow", "cat"], [0, 1], names)


def test_channels_first_and_colour_get_the_right_fix():
    with pytest.raises(ValueError, match=r"np\.moveaxis\(x, 1, -1\)"):
        plots.show_images(np.zeros((2, 1, 8, 8), np.uint8))
    with pytest.raises(ValueError, match="grayscale"):
        plots.image_grid(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="cmap"):
        plots.show_images(np.zeros((2, 8, 8), np.uint8), cmap="grey-ish")
