"""visionbook.checks: the argument checks every module uses at its entry."""

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
    with pytest.raises(ValueError, match=r"seed must be a whole number in 0\.\.2\*\*32-1"):
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


# --------------------------------------------------------------------------
# Checks added for issue 32: fractions, counts, labels, model pairs,
# configurations, output paths
# --------------------------------------------------------------------------


def test_fraction_explains_a_percentage():
    assert checks.check_fraction(0.3, "dropout") == 0.3
    with pytest.raises(ValueError, match=r"dropout .* not a percentage \(30% is 0\.3\)"):
        checks.check_fraction(30, "dropout")
    with pytest.raises(ValueError, match="dropout"):
        checks.check_fraction(float("nan"), "dropout")


def test_count_refuses_what_cannot_be_allocated():
    assert checks.check_count(64, "count", item_bytes=3136) == 64
    with pytest.raises(ValueError, match=r"count = 10,000,000,000,000 would need .* at most"):
        checks.check_count(10**13, "count", item_bytes=3136)


def test_class_indices_from_indices_names_and_probabilities():
    names = ["cat", "dog", "bird"]
    np.testing.assert_array_equal(checks.as_class_indices([2, 0], 3), [2, 0])
    np.testing.assert_array_equal(checks.as_class_indices(np.array([[1], [2]]), 3), [1, 2])
    np.testing.assert_array_equal(checks.as_class_indices(["Dog", "bird", 0], 3, class_names=names), [1, 2, 0])
    with pytest.raises(ValueError, match=r"np\.argmax\(y_pred, axis=1\)"):
        checks.as_class_indices(np.full((4, 3), 1 / 3), 3, "y_pred")
    with pytest.raises(TypeError, match="class names .* indices"):
        checks.as_class_indices(["dog"], 3)
    with pytest.raises(ValueError, match="unknown class 3: class indices run from 0 to 2"):
        checks.as_class_indices([0, 3], 3)
    with pytest.raises(ValueError, match="probabilities"):
        checks.as_class_indices([0.2, 0.9], 3)


def test_gan_players_in_the_wrong_order_or_sizes():
    latent = keras.Input((8,))
    generator = keras.Model(latent, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784)(latent)))
    image = keras.Input((28, 28, 1))
    discriminator = keras.Model(image, keras.layers.Dense(1)(keras.layers.Flatten()(image)))
    assert checks.generator_and_discriminator(generator, discriminator) == 8
    with pytest.raises(ValueError, match="wrong order"):
        checks.generator_and_discriminator(discriminator, generator)
    with pytest.raises(ValueError, match="latent_dim is 64 but generator takes noise vectors of length 8"):
        checks.generator_and_discriminator(generator, discriminator, latent_dim=64)
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="model has no defined input yet"):
        checks.image_input_shape(unbuilt)


def test_configurations_are_checked_by_setting():
    template = {"learning_rate": 1e-3, "batch_size": 32, "epochs": 2, "seed": 0, "dropout": 0.1,
                "widths": (8, 4), "flag": True, "per_class": None, "nested": {"epochs": 1}}
    assert checks.check_config(dict(template), template) == template
    for change, message in [
        ({"learning_rate": -1e-3}, r"config\['learning_rate'\] .* positive"),
        ({"batch_size": 0}, r"config\['batch_size'\] must be at least 1"),
        ({"epochs": 2.0}, r"config\['epochs'\] must be an integer"),
        ({"seed": -1}, r"config\['seed'\]"),
        ({"dropout": 30}, "percentage"),
        ({"widths": (8.0, 4)}, r"config\['widths'\]\[0\]"),
        ({"flag": 1}, "True or False"),
        ({"per_class": 0}, r"config\['per_class'\]"),
        ({"nested": {"epochs": 0}}, r"config\['nested'\]\['epochs'\]"),
        ({"learning_rat": 1e-3}, "unknown keys"),
    ]:
        with pytest.raises((ValueError, TypeError), match=message):
            checks.check_config({**template, **change}, template)
    with pytest.raises(ValueError, match="lacks"):
        checks.check_config({"epochs": 2}, template)


def test_config_text_refuses_what_changes_between_sessions():
    assert checks.config_text({"b": 1, "a": (1, 2)}) == '{"a": [1, 2], "b": 1}'
    assert checks.config_text({"n": np.int64(3)}) == '{"n": "3"}'  # as the store has always keyed it
    for value in (object(), print, keras.optimizers.Adam):
        with pytest.raises(TypeError, match="session"):
            checks.config_text({"x": value})


def test_output_paths_never_replace_a_file(tmp_path):
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        checks.check_output_path(mine, "out")
    assert checks.check_output_path(mine, "out", overwrite=True) == mine
    with pytest.raises(IsADirectoryError):
        checks.check_output_path(tmp_path, "out")
    with pytest.raises(NotADirectoryError, match="is a file"):
        checks.check_output_path(mine / "grid.png", "out")
    with pytest.raises(ValueError, match=r"must end in \.gif"):
        checks.check_output_path(tmp_path / "a.png", "path", suffixes=(".gif",))
    with pytest.raises(FileExistsError):
        checks.write_file(mine, lambda p: p.write_bytes(b"new"))
    assert mine.read_bytes() == b"mine"
    checks.write_file(tmp_path / "sub" / "new.txt", lambda p: p.write_text("new"))
    assert (tmp_path / "sub" / "new.txt").read_text() == "new"
    assert not [p for p in tmp_path.rglob(".*")], "a temporary file was left"
