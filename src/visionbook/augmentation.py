"""Does adding generated images to a small labelled set help a classifier?

Chapter 10's experiment. Someone has a small labelled set (100 Fashion-MNIST
training images per class) and trains a small CNN on it; each *source* adds
``extra_per_class`` images per class to that set: nothing (the baseline),
shifted and mirrored copies of the real images, or samples of a conditional
GAN (:mod:`visionbook.cgan`). The method is what makes the answer honest:

- the honest generator (:data:`cgan.SMALL_CGAN`) learned from the small set
  only; the one that learned from all labelled images
  (:data:`cgan.FASHION_CGAN`) leaks labels the small set may not have, and
  runs only to show what that leak looks like;
- every source gets the same choice of training lengths and picks its own
  on *validation* images (labelled training images outside the small set);
- the test images are read once, at the end, for the chosen models.

:func:`experiment_results` keeps the result table in the model store.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from visionbook import cgan, checks, cnn, data, store

NUM_CLASSES = cgan.NUM_CLASSES

#: The classifier of the experiment (arguments of :func:`cnn.create_cnn_model`):
#: the book's Fashion-MNIST CNN at half width, quick to train many times.
SMALL_CNN: dict[str, Any] = {
    **cnn.FASHION_CNN, "num_classes": NUM_CLASSES, "filters": (16, 32), "dense_units": 64,
}

#: Where the extra images come from, in the order of the result table.
SOURCES: tuple[str, ...] = ("none", "shift_flip", "small_cgan", "full_cgan")

#: The experiment (its result table is stored under this configuration).
#: Every source trains the same CNN on the same small set plus
#: ``extra_per_class`` images per class of its own, once per seed and
#: training length in ``step_choices`` (a length, and twice that for a
#: training set that the extra images double); the length with the best
#: mean validation accuracy is that source's choice.
AUGMENTATION_EXPERIMENT: dict[str, Any] = {
    "per_class": cgan.SMALL_CGAN["per_class"],
    "subset_seed": cgan.SMALL_CGAN["subset_seed"],
    "validation_per_class": 500,
    "validation_seed": 1,
    "extra_per_class": 100,
    "sources": SOURCES,
    "seeds": (0, 1),
    "step_choices": (800, 1600),
    "batch_size": 32,
    "learning_rate": 3e-3,
    "cnn": SMALL_CNN,
    "small_cgan": cgan.SMALL_CGAN,
    "full_cgan": cgan.FASHION_CGAN,
}


def labelled_split(
    per_class: int = 100, subset_seed: int = 0, validation_per_class: int = 500, validation_seed: int = 1
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The small labelled set and a validation set: ``((images, labels), (images, labels))``.

    The small set is :func:`cgan.labelled_subset` (the images the small cGAN
    learns from). The validation set is ``validation_per_class`` other
    training images per class, drawn with ``validation_seed``; no image
    equal pixel for pixel to one of the small set is among them.
    """
    per_class = checks.check_positive_int(per_class, "per_class")
    validation_per_class = checks.check_positive_int(validation_per_class, "validation_per_class")
    subset_seed = checks.check_seed(subset_seed, "subset_seed")
    validation_seed = checks.check_seed(validation_seed, "validation_seed")
    (x_train, y_train), _ = data.load_fashion_mnist()
    smallest = int(np.bincount(y_train, minlength=NUM_CLASSES).min())
    if per_class + validation_per_class > smallest:
        raise ValueError(
            f"per_class + validation_per_class is {per_class + validation_per_class}, but a "
            f"class has only {smallest} training images: ask for fewer."
        )
    images, labels = cgan.labelled_subset(per_class, subset_seed)
    taken = {image.tobytes() for image in images}
    free = np.array([image.tobytes() not in taken for image in x_train])
    rng = np.random.default_rng(validation_seed)
    picks = np.concatenate([
        rng.choice(np.flatnonzero(free & (y_train == k)), validation_per_class, replace=False)
        for k in range(NUM_CLASSES)
    ])
    return (images, labels), (x_train[picks], y_train[picks])


def shift_flip(images: object, count: int, seed: int = 0, max_shift: int = 2) -> np.ndarray:
    """``count`` copies of random ``images``, shifted by up to ``max_shift`` pixels, mirrored at random.

    The classic, free augmentation that generated images have to beat.
    ``images`` is a stack ``(n, height, width)``; the copies have its dtype.
    """
    array = checks.as_numeric_array(images, "images")
    if array.ndim != 3:
        raise ValueError(
            f"images must be a stack of grayscale images (n, height, width), got shape {array.shape}."
        )
    count = checks.check_positive_int(count, "count")
    seed = checks.check_seed(seed)
    max_shift = checks.check_positive_int(max_shift, "max_shift", minimum=0)
    rng = np.random.default_rng(seed)
    source = array[rng.integers(0, len(array), count)]
    padded = np.pad(source, ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    height, width = source.shape[1:3]
    out = np.empty_like(source)
    down = rng.integers(0, 2 * max_shift + 1, count)
    right = rng.integers(0, 2 * max_shift + 1, count)
    mirror = rng.random(count) < 0.5
    for i, (dy, dx, flip) in enumerate(zip(down, right, mirror)):
        crop = padded[i, dy : dy + height, dx : dx + width]
        out[i] = crop[:, ::-1] if flip else crop
    return out


def extra_images(
    source: str,
    images: object,
    labels: object,
    per_class: int,
    seed: int,
    generators: dict[str, keras.Model],
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` extra training images per class from ``source``, as uint8 ``(images, labels)``.

    ``"none"`` adds nothing (empty arrays); ``"shift_flip"`` transforms the
    real ``images`` (uint8, ``(n, 28, 28)``) of each class; any other source
    names a conditional generator in ``generators`` (see :data:`SOURCES`).
    """
    per_class = checks.check_positive_int(per_class, "per_class")
    seed = checks.check_seed(seed)
    if not isinstance(generators, dict):
        raise TypeError(f"generators must be a dict of source name -> generator, got {type(generators).__name__}.")
    if source == "none":
        return np.zeros((0, 28, 28), "uint8"), np.zeros(0, "uint8")
    classes = np.repeat(np.arange(NUM_CLASSES, dtype="uint8"), per_class)
    if source == "shift_flip":
        stack = checks.as_numeric_array(images, "images")
        wanted = cgan.as_labels(labels)
        if len(stack) != len(wanted):
            raise ValueError(f"got {len(stack)} images and {len(wanted)} labels: they must pair up.")
        missing = sorted(set(range(NUM_CLASSES)) - set(wanted.tolist()))
        if missing:
            raise ValueError(f"images has no image of class {missing[0]} to shift and mirror.")
        parts = [shift_flip(stack[wanted == k], per_class, seed=seed * 100 + k) for k in range(NUM_CLASSES)]
        return np.concatenate(parts), classes
    if isinstance(source, str) and source in generators:
        made, _ = cgan.sample_classes(generators[source], per_class, seed=seed + 1000)
        return np.round(made[..., 0] * 255).astype("uint8"), classes
    known = ", ".join(["none", "shift_flip", *generators])
    raise ValueError(f"unknown source {source!r}: choose one of {known}.")


def train_small_cnn(
    images: object,
    labels: object,
    steps: int,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
    seed: int = 0,
    cnn_config: dict[str, Any] = SMALL_CNN,
) -> keras.Model:
    """Train :data:`SMALL_CNN` for ``steps`` batches drawn from all of ``images``.

    The learning rate warms up to ``learning_rate`` and decays to zero
    (:func:`cnn.one_cycle_schedule`), so the last step is a settled model
    whatever the number of images: a fixed amount of training for every
    source.
    """
    import tensorflow as tf

    batch = data.as_batch(images)
    classes = cgan.as_labels(labels, int(cnn_config["num_classes"]))
    if len(batch) != len(classes):
        raise ValueError(f"got {len(batch)} images and {len(classes)} labels: they must pair up.")
    steps = checks.check_positive_int(steps, "steps")
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    checks.check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    seed = checks.check_seed(seed)
    keras.utils.set_random_seed(seed)
    model = cnn.compile_classifier(
        cnn.create_cnn_model(**cnn_config),
        cnn.one_cycle_schedule(steps, learning_rate),
        steps_per_execution=math.gcd(steps, 50),  # fewer calls, same steps (see compile_classifier)
    )
    dataset = data.without_autotuning(
        tf.data.Dataset.from_tensor_slices((batch, classes))
        .shuffle(len(batch), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size)
        .prefetch(2)
    )
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model


def accuracy(model: keras.Model, images: object, labels: object) -> float:
    """The share of ``images`` that ``model`` assigns to their ``labels``."""
    predicted = cnn.predict_classes(model, images)
    wanted = cgan.as_labels(labels, checks.classifier_classes(model, "model"))
    if len(predicted) != len(wanted):
        raise ValueError(f"got {len(predicted)} images and {len(wanted)} labels: they must pair up.")
    return float(np.mean(predicted == wanted))


def check_experiment(config: object) -> dict[str, Any]:
    """``config`` if it is a complete experiment whose honest generator saw only the small set."""
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict like AUGMENTATION_EXPERIMENT, got {type(config).__name__}.")
    missing = sorted(set(AUGMENTATION_EXPERIMENT) - set(config))
    if missing:
        raise ValueError(f"config lacks {missing}: start from {{**AUGMENTATION_EXPERIMENT, ...}}.")
    small = config["small_cgan"]
    if (small["per_class"], small["subset_seed"]) != (config["per_class"], config["subset_seed"]):
        raise ValueError(
            "the small cGAN must be trained on the experiment's own labelled set "
            "(same per_class and subset_seed), or it leaks other labelled images into the result."
        )
    unknown = sorted(set(config["sources"]) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown sources {unknown}: choose from {', '.join(SOURCES)}.")
    for steps in config["step_choices"]:
        checks.check_positive_int(steps, "step_choices")
    return config


def run_experiment(config: dict[str, Any] = AUGMENTATION_EXPERIMENT, verbose: bool = True) -> dict[str, Any]:
    """Train the small CNN for every source, seed and training length; choose on validation; test once.

    Returns the record of :func:`experiment_results`: ``arrays["validation_accuracy"]``
    ``(source, training length, seed)``, ``chosen_steps`` (one per source: the
    length with the best mean validation accuracy) and
    ``arrays["test_accuracy"]`` ``(source, seed)``, measured on all 10,000 test
    images for the chosen lengths only, after every choice was made.
    """
    config = check_experiment(config)
    (images, labels), (x_val, y_val) = labelled_split(
        config["per_class"], config["subset_seed"], config["validation_per_class"], config["validation_seed"]
    )
    generators = {
        "small_cgan": cgan.trained_fashion_cgan(config["small_cgan"], verbose=0)[0],
        "full_cgan": cgan.trained_fashion_cgan(config["full_cgan"], verbose=0)[0],
    }
    sources, seeds, choices = config["sources"], config["seeds"], config["step_choices"]
    validation = np.zeros((len(sources), len(choices), len(seeds)))
    chosen_steps, chosen_models = [], []
    for i, source in enumerate(sources):
        models = {}
        for j, seed in enumerate(seeds):
            x_extra, y_extra = extra_images(source, images, labels, config["extra_per_class"], seed, generators)
            x, y = np.concatenate([images, x_extra]), np.concatenate([labels, y_extra])
            for k, steps in enumerate(choices):
                models[k, j] = train_small_cnn(
                    x, y, steps, config["batch_size"], config["learning_rate"], seed, config["cnn"]
                )
                validation[i, k, j] = accuracy(models[k, j], x_val, y_val)
                if verbose:
                    print(f"{source:>11s} seed {seed} {steps:5d} steps: validation {validation[i, k, j]:.4f}")
        best = int(np.argmax(validation[i].mean(axis=1)))
        chosen_steps.append(int(choices[best]))
        chosen_models.append([models[best, j] for j in range(len(seeds))])
    # Every choice is made: only now are the test images read, once per chosen model.
    _, (x_test, y_test) = data.load_fashion_mnist()
    test = np.array([[accuracy(model, x_test, y_test) for model in row] for row in chosen_models])
    return {
        "sources": list(sources),
        "seeds": list(seeds),
        "step_choices": [int(s) for s in choices],
        "chosen_steps": chosen_steps,
        "arrays": {"validation_accuracy": validation, "test_accuracy": test},
    }


def experiment_results(config: dict[str, Any] = AUGMENTATION_EXPERIMENT, verbose: bool = True) -> dict[str, Any]:
    """The experiment's result table, from the model store or computed now (:func:`run_experiment`)."""
    config = check_experiment(config)
    return store.load_or_compute("augmentation_experiment", config, lambda: run_experiment(config, verbose))
