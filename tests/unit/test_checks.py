"""visionbook.data's argument checks, which every module uses at its entry."""

import keras
import numpy as np
import pytest

from visionbook import checks, data


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_positive_int_accepts_whole_numbers(value):
    assert checks.check_positive_int(value, "count") == int(value)


@pytest.mark.parametrize(
    "value, error, message",
    [(0, ValueError, "at least 1"), (-2, ValueError, "at least 1"), (True, TypeError, "integer"),
     (2.0, TypeError, "integer"), ("3", TypeError, "integer"), (None, TypeError, "integer")],
)
def test_positive_int_names_the_argument(value, error, message):
    with pytest.raises(error, match=f"count must be .*{message}|{message}"):
        checks.check_positive_int(value, "count")


def test_seed_range():
    assert checks.check_seed(0) == 0 and checks.check_seed(2**32 - 1) == 2**32 - 1
    with pytest.raises(ValueError, match="seed must be at most"):
        checks.check_seed(2**32)
    with pytest.raises(ValueError, match="seed"):
        checks.check_seed(-1)


def test_number_intervals():
    assert checks.check_number(0.5, "rate", low=0.0, high=1.0) == 0.5
    assert checks.check_number(0.0, "dropout", low=0.0, high=1.0, high_open=True) == 0.0
    with pytest.raises(ValueError, match=r"dropout must be a finite number in \[0, 1\)"):
        checks.check_number(1.0, "dropout", low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match=r"std must be a finite number in \(0, inf\)"):
        checks.check_number(float("nan"), "std", low=0.0, low_open=True)
    with pytest.raises(TypeError, match="rate must be a number"):
        checks.check_number("fast", "rate")


def _model(inputs, outputs):
    x = keras.Input(inputs)
    return keras.Model(x, keras.layers.Dense(outputs)(keras.layers.Flatten()(x)))


def test_model_roles():
    classifier = _model((28, 28, 1), 10)
    assert checks.image_input_shape(classifier) == (28, 28, 1)
    assert checks.classifier_classes(classifier) == 10
    with pytest.raises(TypeError, match="classifier must be a keras.Model, got str"):
        checks.classifier_classes("model.keras")
    with pytest.raises(ValueError, match="generator maps .* but a generator or decoder"):
        checks.latent_input_size(classifier, "generator")
    latent = keras.Input((8,))
    generator = keras.Model(latent, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784)(latent)))
    assert checks.latent_input_size(generator, "generator") == 8
    with pytest.raises(ValueError, match="classifier takes input of shape"):
        checks.classifier_classes(generator)


def test_ragged_and_complex_input_are_explained():
    with pytest.raises(TypeError, match="images could not be read as one numeric array"):
        data.to_unit_range([[0.0, 0.5], [0.25]])
    with pytest.raises(TypeError, match="real numbers"):
        data.to_unit_range(np.zeros(3, np.complex64))
    with pytest.raises(TypeError, match="size must be a pair"):
        data.as_batch(np.zeros((28, 28), np.uint8), size=28)
