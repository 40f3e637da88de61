"""Convolutional networks for image recognition.

:func:`conv_block` and :func:`create_cnn_model` are the source article's
builders, repaired for Keras 3: they return a real :class:`keras.Model`,
accept any input size and class count, and use a BatchNormalization momentum
that lets a short training run evaluate correctly (see :data:`BN_MOMENTUM`).
With no arguments they rebuild the article's ImageNet-sized network.
:data:`FASHION_CNN` configures the same builder as the book's fast
Fashion-MNIST classifier, :func:`train_fashion_cnn` trains it with the
recipe chapter 4 writes out (:data:`FASHION_TRAINING`), and
:func:`trained_fashion_cnn` keeps it in the model store for later chapters.
How these settings were chosen: ``book/appendix/model_choices.md``.
"""

from __future__ import annotations

import contextlib
import inspect
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import layers

from visionbook import checks, data, store

#: Keras's default BatchNormalization momentum is 0.99: the moving mean and
#: variance used at inference move only 1% of the way towards each batch's
#: statistics, so they need several hundred steps to forget their initial
#: values (mean 0, variance 1).  A short run then evaluates with statistics
#: that do not match what the network saw in training, and test accuracy can
#: fall far below a training accuracy that looks fine (chapter 4 measures
#: how far).  0.9 catches up within a few dozen steps and costs nothing in a
#: long run.
BN_MOMENTUM = 0.9

#: The article's configuration: ImageNet-sized input, 1000 classes.
ARTICLE_CNN: dict[str, Any] = {
    "input_shape": (224, 224, 3),
    "num_classes": 1000,
    "filters": (32, 64, 128, 256, 512),
    "strides": (1, 2, 2, 2, 2),
}

#: The book's Fashion-MNIST classifier, the network chapter 4 writes as a
#: ``keras.Sequential``: two ReLU convolutions, each followed by 2x2 max
#: pooling, then flatten, dropout, a hidden dense layer and the softmax.  No
#: BatchNormalization: at this size the network trains well without it, and
#: each step is cheaper.  The alternatives tried (other widths, with
#: BatchNormalization) are in ``book/appendix/model_choices.md``.
FASHION_CNN: dict[str, Any] = {
    "input_shape": (28, 28, 1),
    "num_classes": 10,
    "filters": (32, 64),
    "strides": (1, 1),
    "batch_norm": False,
    "pooling": True,
    "head": "flatten",
    "dense_units": 128,
    "dropout": 0.3,
}


def conv_block(
    inputs: keras.KerasTensor,
    num_filters: int,
    kernel_size: int | tuple[int, int] = (3, 3),
    strides: int | tuple[int, int] = (1, 1),
    padding: str = "same",
    *,
    batch_norm: bool = True,
    bn_momentum: float = BN_MOMENTUM,
) -> keras.KerasTensor:
    """Convolution, optional BatchNormalization, then ReLU: the article's block.

    The convolution keeps its bias, as in the article, although the
    normalization that follows subtracts it again (its offset, beta, does the
    same job): 992 redundant parameters in the article's network, kept so the
    parameter count matches the article's.  Without BatchNormalization the
    ReLU is the convolution's own activation, ``Conv2D(..., activation="relu")``,
    as one writes it in a ``keras.Sequential`` model: the same computation.
    """
    checks.check_positive_int(num_filters, "num_filters")
    for argument, value in (("kernel_size", kernel_size), ("strides", strides)):
        pair = value if isinstance(value, (tuple, list)) else (value,)
        if len(pair) not in (1, 2):
            raise ValueError(f"{argument} must be an integer or a pair of integers, got {value!r}.")
        for entry in pair:
            checks.check_positive_int(entry, argument)
    if not isinstance(padding, str) or padding.lower() not in ("same", "valid"):
        raise ValueError(f"padding must be 'same' or 'valid', got {padding!r}.")
    if not batch_norm:
        return layers.Conv2D(
            num_filters, kernel_size, strides=strides, padding=padding.lower(), activation="relu"
        )(inputs)
    x = layers.Conv2D(num_filters, kernel_size, strides=strides, padding=padding.lower())(inputs)
    x = layers.BatchNormalization(momentum=bn_momentum)(x)
    return layers.Activation("relu")(x)


def _int_sequence(values: object, argument: str) -> tuple[int, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise TypeError(f"{argument} must be a sequence of integers, got {values!r}.")
    return tuple(checks.check_positive_int(v, f"{argument}[{i}]") for i, v in enumerate(values))


def _check_config(
    input_shape: Sequence[int],
    num_classes: int,
    filters: Sequence[int],
    strides: Sequence[int],
    pooling: bool,
    head: str,
) -> None:
    if (
        isinstance(input_shape, (str, bytes))
        or not isinstance(input_shape, Sequence)
        or len(input_shape) != 3
        or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
            for d in input_shape
        )
    ):
        raise ValueError(
            f"input_shape must be (height, width, channels) of positive integers, "
            f"got {input_shape!r}; for grayscale 28x28 images use (28, 28, 1)."
        )
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(
            f"num_classes must be an integer of at least 2, got {num_classes!r}."
        )
    filters = _int_sequence(filters, "filters")
    strides = _int_sequence(strides, "strides")
    if len(filters) == 0 or len(filters) != len(strides):
        raise ValueError(
            f"filters and strides need one entry per block and at least one block; "
            f"got {len(filters)} filters and {len(strides)} strides."
        )
    if head not in ("gap", "flatten"):
        raise ValueError(f"head must be 'gap' or 'flatten', got {head!r}.")
    size = min(input_shape[0], input_shape[1])
    for stride in strides:
        size = math.ceil(size / stride)
        if pooling:
            size //= 2
        if size < 1:
            raise ValueError(
                f"input_shape {tuple(input_shape)} is too small for "
                f"{len(strides)} blocks with strides {tuple(strides)}"
                f"{' and pooling' if pooling else ''}: the feature map would "
                "shrink to nothing. Use fewer blocks or larger images."
            )


def _check_options(**flags_and_numbers: Any) -> None:
    """The switches and numbers of :func:`create_cnn_model`, one clear error each."""
    for name in ("batch_norm", "pooling", "flip_augment"):
        if not isinstance(flags_and_numbers[name], bool):
            raise TypeError(f"{name} must be True or False, got {flags_and_numbers[name]!r}.")
    checks.check_fraction(flags_and_numbers["bn_momentum"], "bn_momentum")
    checks.check_fraction(flags_and_numbers["dropout"], "dropout")
    checks.check_positive_int(flags_and_numbers["dense_units"], "dense_units", minimum=0)
    if not isinstance(flags_and_numbers["name"], str) or not flags_and_numbers["name"]:
        raise TypeError(f"name must be a non-empty string, got {flags_and_numbers['name']!r}.")


def create_cnn_model(
    input_shape: Sequence[int] = ARTICLE_CNN["input_shape"],
    num_classes: int = ARTICLE_CNN["num_classes"],
    filters: Sequence[int] = ARTICLE_CNN["filters"],
    strides: Sequence[int] = ARTICLE_CNN["strides"],
    *,
    batch_norm: bool = True,
    bn_momentum: float = BN_MOMENTUM,
    pooling: bool = False,
    head: str = "gap",
    dense_units: int = 0,
    dropout: float = 0.0,
    flip_augment: bool = False,
    name: str = "cnn",
) -> keras.Model:
    """Build a stack of :func:`conv_block` layers and a softmax classifier.

    With the defaults this is the article's network (224x224x3 input, 1000
    classes, 2,085,544 parameters).  ``pooling`` adds 2x2 max pooling after
    each block; ``head`` is ``"gap"`` (global average pooling, as in the
    article) or ``"flatten"``; ``dense_units`` adds a hidden dense layer;
    ``flip_augment`` mirrors training images left-right at random.
    """
    _check_options(
        batch_norm=batch_norm, pooling=pooling, flip_augment=flip_augment,
        bn_momentum=bn_momentum, dropout=dropout, dense_units=dense_units, name=name,
    )
    _check_config(input_shape, num_classes, filters, strides, pooling, head)
    num_classes, dense_units = int(num_classes), int(dense_units)  # Keras refuses NumPy integers
    inputs = keras.Input(shape=tuple(int(d) for d in input_shape), name="image")
    x = layers.RandomFlip("horizontal", name="flip")(inputs) if flip_augment else inputs
    for num_filters, stride in zip(filters, strides):
        x = conv_block(
            x, int(num_filters), strides=int(stride), batch_norm=batch_norm,
            bn_momentum=bn_momentum,
        )
        if pooling:
            x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(x) if head == "gap" else layers.Flatten()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    if dense_units:
        x = layers.Dense(dense_units, activation="relu")(x)
    # float32 whatever the dtype policy: under mixed precision the softmax and
    # the loss after it stay accurate (the same model under the default policy).
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name=name)


def create_fashion_cnn(**overrides: Any) -> keras.Model:
    """The book's Fashion-MNIST CNN: :func:`create_cnn_model` with :data:`FASHION_CNN`."""
    return create_cnn_model(**{**FASHION_CNN, "name": "fashion_cnn", **overrides})


def one_cycle_schedule(
    total_steps: int, peak_learning_rate: float = 3e-3, warmup_fraction: float = 0.1
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Warm up linearly to a peak, then follow a cosine down to zero.

    A short run gains most from this: the warm-up keeps the first, noisy
    steps small, the high middle learns fast, and the decay settles the
    weights so the last epoch is the best one.
    """
    total_steps = checks.check_positive_int(total_steps, "total_steps")
    peak_learning_rate = checks.check_number(peak_learning_rate, "peak_learning_rate", low=0.0, low_open=True)
    warmup_fraction = checks.check_number(warmup_fraction, "warmup_fraction", low=0.0, high=1.0, high_open=True)
    warmup = max(1, int(total_steps * warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(1, total_steps - warmup),
        warmup_target=peak_learning_rate,
        warmup_steps=warmup,
    )


def compile_classifier(
    model: keras.Model,
    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule = 1e-3,
    steps_per_execution: int = 1,
) -> keras.Model:
    """Compile for integer labels (0..num_classes-1) with Adam and accuracy.

    ``steps_per_execution`` runs that many training steps in one call of the
    compiled function. The steps and the weights are the same; what is saved
    is Keras's work between calls (callbacks, logs), which matters when the
    steps are small: for the half-width CNN of chapter 10 on batches of 64,
    50 steps per call trained about 15% faster, to identical weights.
    Callbacks then see a batch only every ``steps_per_execution`` steps.
    """
    checks.check_model(model)
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        checks.check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    steps_per_execution = checks.check_positive_int(steps_per_execution, "steps_per_execution")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
    )
    return model


#: How the book's Fashion-MNIST CNN is trained (also the model store's key):
#: the last ``validation_images`` training images are held out for
#: validation, the rest are fed in batches reshuffled every epoch, with Adam
#: and a one-cycle schedule over ``epochs`` epochs.  Chapter 4 writes this
#: recipe out and checks its settings against this dict; the appendix page
#: ``book/appendix/model_choices.md`` says how each value was chosen.
FASHION_TRAINING: dict[str, Any] = {
    "model": FASHION_CNN,
    "epochs": 10,
    "batch_size": 128,
    "peak_learning_rate": 3e-3,
    "validation_images": 6000,
    "seed": 42,
}


def split_off_validation(
    images: np.ndarray, labels: np.ndarray, validation_images: int = 6000
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """``(images, labels)`` for training and the last ``validation_images`` for validation.

    Fashion-MNIST's training file is already in random order, so its last
    images are a fair sample of all ten classes.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 0 or labels.ndim == 0 or len(images) != len(labels):
        raise ValueError(
            f"images and labels must have the same length, got {np.shape(images)} and "
            f"{np.shape(labels)}."
        )
    validation_images = checks.check_positive_int(validation_images, "validation_images")
    if validation_images >= len(images):
        raise ValueError(
            f"validation_images must be smaller than the number of images ({len(images)}), "
            f"got {validation_images}: some images must be left to train on."
        )
    cut = len(images) - validation_images
    return (images[:cut], labels[:cut]), (images[cut:], labels[cut:])


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int) -> Any:
    """A ``tf.data`` pipeline of ``(images, labels)`` batches, reshuffled every epoch.

    The standard pipeline: slice the arrays, shuffle all of them with a fixed
    seed (a new order each epoch, the same orders in every run), batch, and
    prefetch two batches so that the next is ready while the model trains;
    tf.data's autotuner is off (:func:`data.without_autotuning`), as in
    chapter 4 (:func:`data.shuffled_batches`).
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim == 0 or labels.ndim == 0 or len(images) == 0 or len(images) != len(labels):
        raise ValueError(
            f"images and labels must be non-empty and of the same length, got {len(images)} "
            f"and {len(labels)}."
        )
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    seed = checks.check_seed(seed)
    return data.shuffled_batches((images, labels), batch_size, seed)


def train_fashion_cnn(
    epochs: int = FASHION_TRAINING["epochs"],
    batch_size: int = FASHION_TRAINING["batch_size"],
    peak_learning_rate: float = FASHION_TRAINING["peak_learning_rate"],
    seed: int = FASHION_TRAINING["seed"],
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    *,
    validation_images: int = FASHION_TRAINING["validation_images"],
    model_overrides: Mapping[str, Any] | None = None,
    precision: str = "float32",
) -> tuple[keras.Model, dict[str, Any]]:
    """Train :func:`create_fashion_cnn` with chapter 4's recipe.

    It trains on the first 60,000 - ``validation_images`` training images and
    reports validation loss and accuracy after every epoch.  Returns the
    model and a record with the per-epoch history (``accuracy``,
    ``val_accuracy``, ...) and the accuracy on the 10,000 test images, which
    are used only for that final evaluation.  ``model_overrides`` changes
    :data:`FASHION_CNN` keys (``{"filters": (16, 64)}``, say) to train
    another network with the same recipe.  ``precision="mixed_bfloat16"``
    computes in bfloat16 with float32 weights (see :data:`PRECISIONS`); the
    global dtype policy is left as it was.
    """
    epochs = checks.check_positive_int(epochs, "epochs")
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    checks.check_number(peak_learning_rate, "peak_learning_rate", low=0.0, low_open=True)
    seed = checks.check_seed(seed)
    validation_images = checks.check_positive_int(validation_images, "validation_images")
    overrides = _check_model_overrides(model_overrides)
    precision = _check_precision(precision)
    (x_train, y_train), (x_test, y_test) = data.fashion_mnist_for_training()
    (x_fit, y_fit), (x_val, y_val) = split_off_validation(x_train, y_train, validation_images)
    keras.utils.set_random_seed(seed)
    with dtype_policy(precision):
        model = create_fashion_cnn(**overrides)
    steps = epochs * math.ceil(len(x_fit) / batch_size)
    compile_classifier(model, one_cycle_schedule(steps, peak_learning_rate))
    history = model.fit(
        training_batches(x_fit, y_fit, batch_size, seed),
        epochs=epochs,
        validation_data=(x_val, y_val),
        shuffle=False,  # the pipeline shuffles
        verbose=verbose,
        callbacks=list(callbacks),
    )
    record = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "test_accuracy": classification_accuracy(model, x_test, y_test),
        "epochs": epochs,
        "batch_size": batch_size,
        "validation_images": validation_images,
        "seed": seed,
    }
    if overrides:
        record["model_overrides"] = overrides
    if precision != "float32":
        record["precision"] = precision
    return model, record


def classification_accuracy(
    model: keras.Model, images: np.ndarray | None = None, labels: np.ndarray | None = None
) -> float:
    """``model``'s accuracy on ``images`` and ``labels`` (default: the 10,000 test images)."""
    checks.classifier_classes(model, "model")
    if images is None or labels is None:
        _, (images, labels) = data.load_fashion_mnist()  # predict_classes scales them
    predicted = predict_classes(model, images)
    labels = np.asarray(labels)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels have shape {labels.shape}, expected {predicted.shape}.")
    return float(np.mean(predicted == labels))


#: The dtype policies :func:`train_fashion_cnn` accepts. ``"mixed_bfloat16"``
#: computes in 16-bit floats and keeps 32-bit weights; it pays only on a CPU
#: or accelerator with fast bfloat16 arithmetic (measurements in
#: ``book/appendix/model_choices.md``). Most CPUs have no fast float16, so
#: ``"mixed_float16"`` is not offered here.
PRECISIONS: tuple[str, ...] = ("float32", "mixed_bfloat16")


def _check_precision(precision: object) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a ValueError that lists them."""
    if precision not in PRECISIONS:
        raise ValueError(
            f"precision must be one of {', '.join(map(repr, PRECISIONS))}, got {precision!r} "
            "(float16 is not offered: most CPUs have no fast float16 arithmetic)."
        )
    return str(precision)


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under the Keras dtype policy ``name``, then restore the previous one.

    A layer keeps the policy it was built with, so a model built inside
    this block trains in that precision while the rest of the session stays
    at the default.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def _check_model_overrides(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """``overrides`` as a dict, after checking it names only :func:`create_cnn_model`'s options."""
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise TypeError(
            f"model_overrides must be a dict of create_cnn_model options, got {overrides!r}; "
            'for example {"filters": (16, 64)}.'
        )
    allowed = set(inspect.signature(create_cnn_model).parameters)
    unknown = sorted(str(key) for key in overrides if key not in allowed)
    if unknown:
        raise ValueError(
            f"model_overrides has unknown keys {unknown}; the options are {sorted(allowed)}."
        )
    return dict(overrides)


def trained_fashion_cnn(verbose: int | str = 2) -> tuple[keras.Model, dict[str, Any]]:
    """The book's trained Fashion-MNIST CNN, from the model store or trained now.

    Chapter 4 trains it (with its own cells, the same recipe as
    :func:`train_fashion_cnn`); later chapters use it as the judge of
    generated images, and train it here only if the store does not have it.
    The record holds the per-epoch ``history`` (training and validation),
    ``epochs``, ``test_accuracy`` (measured on the 10,000 test images),
    ``train_seconds`` (how long the training call took, as the store
    measured it) and ``loaded_from_store``.
    """
    settings = {k: v for k, v in FASHION_TRAINING.items() if k != "model"}
    model, record = store.load_or_train(
        "fashion_cnn", FASHION_TRAINING, lambda: train_fashion_cnn(**settings, verbose=verbose)
    )
    if "test_accuracy" not in record:  # trained by chapter 4, which tests at its end
        record["test_accuracy"] = classification_accuracy(model)
    record["train_seconds"] = record["wall_seconds"]
    return model, record


def predict_classes(model: keras.Model, images: object, batch_size: int = 1000) -> np.ndarray:
    """Class indices for ``images``, after checking they fit ``model``'s input.

    Images may be uint8 0..255 or floats in [0, 1], with or without the
    channel axis; a wrong size, channel count or range gets a clear error.
    """
    checks.classifier_classes(model, "model")
    height, width, channels = checks.image_input_shape(model)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    batch = data.as_batch(images, (height, width), channels)
    return np.argmax(model.predict(batch, batch_size=batch_size, verbose=0), axis=1)
