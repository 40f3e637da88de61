"""visionbook.augmentation: chapter 10's experiment, its parts and its method."""

import numpy as np
import pytest

from visionbook import augmentation, cgan

TINY_CGAN = {**cgan.FASHION_CGAN, "generator_widths": (8, 4), "discriminator_widths": (4, 8), "embedding_dim": 4}
TINY_CNN = {**augmentation.SMALL_CNN, "filters": (2, 4), "dense_units": 4}


@pytest.fixture(scope="module")
def tiny_generator():
    return cgan.build_conditional_gan(TINY_CGAN).generator


def test_shift_flip_keeps_pixels_and_shape():
    images = np.zeros((2, 28, 28), np.uint8)
    images[:, 10:18, 10:18] = 200
    out = augmentation.shift_flip(images, 5, seed=0)
    assert out.shape == (5, 28, 28) and out.dtype == np.uint8
    assert all(int(o.sum()) == int(images[0].sum()) for o in out), "a 2-pixel shift must not cut off the centred square"
    np.testing.assert_array_equal(out, augmentation.shift_flip(images, 5, seed=0))


@pytest.mark.parametrize(
    "images, count, error, match",
    [
        (np.zeros((2, 28, 28, 1)), 3, ValueError, "stack of grayscale images"),
        (np.zeros((2, 28, 28)), 0, ValueError, "count must be at least 1"),
        (np.zeros((2, 28, 28)), 2.5, TypeError, "count must be"),
    ],
)
def test_shift_flip_explains_bad_arguments(images, count, error, match):
    with pytest.raises(error, match=match):
        augmentation.shift_flip(images, count)


def test_extra_images_of_every_class():
    images = np.repeat(np.arange(10, dtype=np.uint8)[:, None, None] * 20, 3, axis=0) * np.ones((1, 28, 28), np.uint8)
    labels = np.repeat(np.arange(10), 3)
    extra, extra_labels = augmentation.extra_images("shift_flip", images, labels, 4, seed=0, generators={})
    assert extra.shape == (40, 28, 28) and extra.dtype == np.uint8
    assert np.bincount(extra_labels).tolist() == [4] * 10
    # every copy comes from its own class: here each class has its own brightness
    assert all(int(image.max()) == 20 * int(k) for image, k in zip(extra, extra_labels))
    nothing, no_labels = augmentation.extra_images("none", images, labels, 4, seed=0, generators={})
    assert nothing.shape == (0, 28, 28) and no_labels.shape == (0,)


def test_extra_images_from_a_generator(tiny_generator):
    images, labels = np.zeros((10, 28, 28), np.uint8), np.arange(10)
    made, made_labels = augmentation.extra_images("small_cgan", images, labels, 2, 0, {"small_cgan": tiny_generator})
    assert made.shape == (20, 28, 28) and made.dtype == np.uint8
    assert made_labels.tolist() == sorted(list(range(10)) * 2)


def test_unknown_source_is_explained():
    images, labels = np.zeros((10, 28, 28), np.uint8), np.arange(10)
    with pytest.raises(ValueError, match="unknown source 'paint'"):
        augmentation.extra_images("paint", images, labels, 1, 0, {})
    with pytest.raises(ValueError, match="no image of class 9"):
        augmentation.extra_images("shift_flip", images[:9], labels[:9], 1, 0, {})


def test_labelled_split_keeps_validation_apart():
    (images, labels), (x_val, y_val) = augmentation.labelled_split(3, 0, validation_per_class=20, validation_seed=1)
    small, small_labels = cgan.labelled_subset(3, 0)
    np.testing.assert_array_equal(images, small)
    np.testing.assert_array_equal(labels, small_labels)
    assert x_val.shape == (200, 28, 28) and np.bincount(y_val).tolist() == [20] * 10
    taken = {image.tobytes() for image in images}
    assert not any(image.tobytes() in taken for image in x_val), "a validation image is in the small set"
    again = augmentation.labelled_split(3, 0, validation_per_class=20, validation_seed=1)[1][0]
    np.testing.assert_array_equal(x_val, again)


def test_labelled_split_refuses_more_than_a_class_has():
    with pytest.raises(ValueError, match="ask for fewer"):
        augmentation.labelled_split(100, 0, validation_per_class=6000)


def test_train_small_cnn_and_accuracy():
    images = np.random.default_rng(0).integers(0, 256, (20, 28, 28), dtype=np.uint8)
    labels = np.arange(20) % 10
    model = augmentation.train_small_cnn(images, labels, steps=2, batch_size=8, seed=0, cnn_config=TINY_CNN)
    assert model.output_shape == (None, 10)
    share = augmentation.accuracy(model, images, labels)
    assert 0.0 <= share <= 1.0
    with pytest.raises(ValueError, match="pair up"):
        augmentation.train_small_cnn(images, labels[:5], steps=2, cnn_config=TINY_CNN)
    with pytest.raises(ValueError, match="steps must be at least 1"):
        augmentation.train_small_cnn(images, labels, steps=0, cnn_config=TINY_CNN)


def test_experiment_refuses_a_cgan_that_saw_other_images():
    config = {**augmentation.AUGMENTATION_EXPERIMENT, "small_cgan": {**cgan.SMALL_CGAN, "subset_seed": 1}}
    with pytest.raises(ValueError, match="own labelled set"):
        augmentation.run_experiment(config)
    with pytest.raises(ValueError, match="unknown sources"):
        augmentation.check_experiment({**augmentation.AUGMENTATION_EXPERIMENT, "sources": ("none", "paint")})
    with pytest.raises(ValueError, match="lacks"):
        augmentation.check_experiment({"per_class": 100})


def test_experiment_chooses_on_validation_and_tests_last(monkeypatch, tiny_generator):
    """Every training run and every validation score comes before the first test-set score."""
    monkeypatch.setattr(cgan, "trained_fashion_cgan", lambda config, verbose=0: (tiny_generator, {}))
    events = []
    train, score = augmentation.train_small_cnn, augmentation.accuracy

    def train_and_log(*args, **kwargs):
        events.append("train")
        return train(*args, **kwargs)

    def score_and_log(model, images, labels):
        events.append("test" if len(images) == 10_000 else "validation")
        return score(model, images, labels)

    monkeypatch.setattr(augmentation, "train_small_cnn", train_and_log)
    monkeypatch.setattr(augmentation, "accuracy", score_and_log)
    config = {
        **augmentation.AUGMENTATION_EXPERIMENT,
        "validation_per_class": 5, "sources": ("none", "small_cgan"), "seeds": (0, 1),
        "step_choices": (1, 2), "extra_per_class": 2, "batch_size": 16, "cnn": TINY_CNN,
    }
    result = augmentation.run_experiment(config, verbose=False)
    assert result["arrays"]["validation_accuracy"].shape == (2, 2, 2)
    assert result["arrays"]["test_accuracy"].shape == (2, 2)
    assert all(steps in (1, 2) for steps in result["chosen_steps"])
    first_test = events.index("test")
    assert events.count("train") == 8 and "train" not in events[first_test:]
    assert "validation" not in events[first_test:] and events.count("test") == 4
    best = result["arrays"]["validation_accuracy"].mean(axis=2).argmax(axis=1)
    assert result["chosen_steps"] == [config["step_choices"][b] for b in best]
