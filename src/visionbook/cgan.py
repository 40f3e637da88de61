"""Conditional GANs: ask the generator for a chosen class.

A conditional GAN gives both players the class label. The generator takes
``(noise, label)`` and must make an image of that class; the discriminator
takes ``(image, label)`` and must reject images that are fake *or* that do
not match their label, so a generator that ignores the label is caught.

The networks reuse :mod:`visionbook.gan`: the generator is
:func:`gan.create_generator` fed with the noise and a learned label
embedding side by side; the discriminator is :func:`gan.create_discriminator`'s
convolutional trunk with a *projection* head (Miyato and Koyama, 2018): its
score is ``w . f(x) + e(y) . f(x)``, an unconditional "real?" term plus the
agreement between the image's features ``f(x)`` and a learned vector ``e(y)``
of the requested class. :class:`ConditionalGAN` is :class:`gan.GAN` with a
``train_step`` that passes the labels along.

The second half of the module is an experiment: does adding generated
images to a small labelled set improve a classifier? The generator used for
that must see only the small set (:data:`SMALL_CGAN`), or the experiment
would leak the labels of the images the small set is not allowed to have;
:func:`augmentation_results` keeps the result table in the model store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from visionbook import checks, cnn, data, gan, plots, store

NUM_CLASSES = len(data.FASHION_MNIST_CLASSES)


# --------------------------------------------------------------------------
# Labels: names or indices in, checked integer arrays out
# --------------------------------------------------------------------------


def class_index(label: object, num_classes: int = NUM_CLASSES) -> int:
    """The index of one class, given as an integer or a Fashion-MNIST class name."""
    if isinstance(label, str):
        names = [name.lower() for name in data.FASHION_MNIST_CLASSES[:num_classes]]
        if label.lower() not in names:
            raise ValueError(
                f"unknown class {label!r}; the classes are: {', '.join(data.FASHION_MNIST_CLASSES[:num_classes])}."
            )
        return names.index(label.lower())
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)):
        raise TypeError(f"a class must be an integer index or a class name, got {label!r}.")
    if not 0 <= label < num_classes:
        raise ValueError(f"unknown class {label}: class indices run from 0 to {num_classes - 1}.")
    return int(label)


def as_labels(labels: object, num_classes: int = NUM_CLASSES, *, argument: str = "labels") -> np.ndarray:
    """Return labels as an int32 vector ``(n,)``, or say clearly what is wrong.

    Accepts one class (an index or a name), a list of them, or an integer
    array of shape ``(n,)`` or ``(n, 1)``. One-hot rows, floats, and indices
    outside ``0..num_classes-1`` are refused with the fix in the message.
    """
    if isinstance(labels, (str, int, np.integer)):
        return np.array([class_index(labels, num_classes)], dtype="int32")
    if isinstance(labels, (list, tuple)) and any(isinstance(x, str) for x in labels):
        return np.array([class_index(x, num_classes) for x in labels], dtype="int32")
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        hint = " They look one-hot: use labels.argmax(axis=1)." if array.ndim == 2 else ""
        raise ValueError(f"{argument} must be a vector of class indices (n,), got shape {array.shape}.{hint}")
    if array.size == 0:
        raise ValueError(f"{argument} is empty: pass at least one class.")
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{argument} must be integer class indices, got dtype {array.dtype}.")
    bad = array[(array < 0) | (array >= num_classes)]
    if bad.size:
        raise ValueError(f"unknown class {int(bad[0])} in {argument}: class indices run from 0 to {num_classes - 1}.")
    return array.astype("int32")


# --------------------------------------------------------------------------
# The two networks
# --------------------------------------------------------------------------


def create_conditional_generator(
    latent_dim: int = gan.LATENT_DIM,
    num_classes: int = NUM_CLASSES,
    embedding_dim: int = 16,
    widths: Sequence[int] = (64, 32),
    name: str = "conditional_generator",
) -> keras.Model:
    """``(noise (latent_dim,), label ())`` -> image ``(28, 28, 1)`` in [-1, 1].

    The label becomes a learned vector of ``embedding_dim`` numbers, joined
    to the noise; :func:`gan.create_generator` does the rest, so the only
    new part is how the request enters.
    """
    latent_dim = gan._check_positive_int(latent_dim, "latent_dim")
    num_classes = gan._check_positive_int(num_classes, "num_classes")
    embedding_dim = gan._check_positive_int(embedding_dim, "embedding_dim")
    noise = keras.Input(shape=(latent_dim,), name="noise")
    label = keras.Input(shape=(), dtype="int32", name="label")
    request = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
    joined = layers.Concatenate(name="noise_and_label")([noise, request])
    body = gan.create_generator(latent_dim + embedding_dim, widths=widths, name="body")
    return keras.Model([noise, label], body(joined), name=name)


def create_conditional_discriminator(
    num_classes: int = NUM_CLASSES,
    widths: Sequence[int] = (32, 64),
    dropout: float = 0.0,
    name: str = "conditional_discriminator",
) -> keras.Model:
    """``(image (28, 28, 1), label ())`` -> one logit: a real image of that class (>0) or not.

    The trunk is :func:`gan.create_discriminator` without its last layer; the
    projection head adds ``e(label) . features`` to the usual score.
    """
    num_classes = gan._check_positive_int(num_classes, "num_classes")
    plain = gan.create_discriminator(widths=widths, dropout=dropout, name="plain")
    if plain.output_shape != (None, 1):
        raise TypeError(f"gan.create_discriminator should end in one logit, not {plain.output_shape}.")
    trunk = keras.Model(plain.input, plain.layers[-1].input, name="trunk")  # everything before the logit
    image = keras.Input(shape=(28, 28, 1), name="image")
    label = keras.Input(shape=(), dtype="int32", name="label")
    features = trunk(image)
    realness = layers.Dense(1, name="realness")(features)
    class_vector = layers.Embedding(num_classes, features.shape[-1], name="class_vector")(label)
    agreement = layers.Dot(axes=1, name="agreement")([features, class_vector])
    logit = layers.Add(name="logit")([realness, agreement])
    return keras.Model([image, label], logit, name=name)


class ConditionalGAN(gan.GAN):
    """:class:`gan.GAN` whose players also see the class label.

    ``fit`` takes ``(images, labels)`` batches with images in [-1, 1]. The
    discriminator learns to score real image-label pairs high and generated
    ones low; the generator, asked for random classes, learns to make the
    discriminator score its image-label pairs high.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        num_classes: int = NUM_CLASSES,
        seed: int = 42,
        **kwargs: Any,
    ) -> None:
        super().__init__(generator, discriminator, latent_dim=generator.input_shape[0][-1], seed=seed, **kwargs)
        self.num_classes = int(num_classes)

    def call(self, inputs: Any, training: bool = False) -> Any:
        noise, label = inputs
        return self.generator([noise, label], training=training)

    def train_step(self, batch: Any) -> dict[str, Any]:
        import tensorflow as tf  # train_step differs per backend; this is the TensorFlow one

        real_images, real_labels, _ = keras.utils.unpack_x_y_sample_weight(batch)
        if real_labels is None:
            raise ValueError("ConditionalGAN.fit needs (images, labels) batches, e.g. from labelled_dataset().")
        real_labels = ops.cast(ops.reshape(real_labels, (-1,)), "int32")
        batch_size = ops.shape(real_images)[0]

        # As in gan.GAN: one generated batch (with its requested labels) serves
        # both halves of the step, so the generator runs once.
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        fake_labels = keras.random.randint((batch_size,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")
        with tf.GradientTape() as g_tape:
            fake_images = self.generator([noise, fake_labels], training=True)

            # 1. Discriminator: (real image, its label) -> 1, (generated image, requested label) -> 0.
            with g_tape.stop_recording():
                with tf.GradientTape() as tape:
                    real_logits = self.discriminator([real_images, real_labels], training=True)
                    fake_logits = self.discriminator([fake_images, fake_labels], training=True)
                    d_loss = self.loss_fn(ops.ones_like(real_logits), real_logits) + self.loss_fn(
                        ops.zeros_like(fake_logits), fake_logits
                    )
                grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
                self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

            # 2. Generator: make the updated discriminator accept (generated image, requested label).
            g_logits = self.discriminator([fake_images, fake_labels], training=True)
            g_loss = self.loss_fn(ops.ones_like(g_logits), g_logits)
        grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        return self.record_step(d_loss, g_loss, real_logits, fake_logits)


# --------------------------------------------------------------------------
# Asking a trained generator for classes
# --------------------------------------------------------------------------


def generate(generator: keras.Model, labels: object, noise: object | None = None, seed: int = 0) -> np.ndarray:
    """Images in [0, 1], one per requested label, shape ``(n, 28, 28, 1)``.

    ``labels`` are class indices or names; ``noise`` is ``(n, latent_dim)``
    (drawn from ``seed`` when omitted). Mismatches are explained.
    """
    latent_dim, num_classes = _generator_sizes(generator)
    classes = as_labels(labels, num_classes)
    if noise is None:
        noise = np.random.default_rng(seed).standard_normal((len(classes), latent_dim)).astype("float32")
    vectors = checks.as_latent_batch(noise, latent_dim, argument="noise")
    if len(vectors) != len(classes):
        raise ValueError(f"got {len(vectors)} noise vectors for {len(classes)} labels: pass one of each per image.")
    images = generator.predict([vectors, classes], batch_size=1000, verbose=0)
    return np.clip((images + 1.0) / 2.0, 0.0, 1.0)


def sample_classes(
    generator: keras.Model, per_class: int, seed: int = 0, classes: object | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` images of each class in ``classes`` (default: all), grouped by class: ``(images, labels)``."""
    per_class = gan._check_positive_int(per_class, "per_class")
    _, num_classes = _generator_sizes(generator)
    if classes is None:
        wanted = np.arange(num_classes, dtype="int32")
    else:
        wanted = as_labels(classes, num_classes, argument="classes")
    labels = np.repeat(wanted, per_class)
    return generate(generator, labels, seed=seed), labels


def _generator_sizes(generator: keras.Model) -> tuple[int, int]:
    shapes = generator.input_shape
    if not isinstance(shapes, list) or len(shapes) != 2:
        raise TypeError(
            f"generator takes {shapes}, not (noise, label): use gan.generate for an unconditional generator."
        )
    embedding = generator.get_layer("label_embedding")
    return int(shapes[0][-1]), int(embedding.input_dim)


def class_match(judge: keras.Model, images: object, labels: object) -> dict[str, Any]:
    """How often the judge classifies each image as the class it was asked for.

    Returns ``overall`` (share of all images), ``per_class`` (one share per
    class, NaN for a class with no images) and ``predicted``.
    """
    wanted = as_labels(labels, judge.output_shape[-1])
    predicted = cnn.predict_classes(judge, images)
    if len(predicted) != len(wanted):
        raise ValueError(f"got {len(predicted)} images for {len(wanted)} labels.")
    hits = predicted == wanted
    per_class = np.array(
        [hits[wanted == k].mean() if np.any(wanted == k) else np.nan for k in range(judge.output_shape[-1])]
    )
    return {"overall": float(hits.mean()), "per_class": per_class, "predicted": predicted}


def class_spread(images: object, labels: object, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """Variety within each class: the mean pixel distance between two images of that class.

    Class coverage counts classes; it cannot see a generator that makes the
    same ankle boot every time. Compare the result with the same number for
    real images of each class (NaN for a class with fewer than two images).
    """
    batch = data.as_batch(images).reshape(-1, 28 * 28).astype("float64")
    wanted = as_labels(labels, num_classes)
    if len(batch) != len(wanted):
        raise ValueError(f"got {len(batch)} images for {len(wanted)} labels.")
    spread = np.full(num_classes, np.nan)
    for k in range(num_classes):
        members = batch[wanted == k]
        if len(members) < 2:
            continue
        squared = np.sum(members**2, axis=1)
        distances = np.sqrt(np.maximum(squared[:, None] + squared[None, :] - 2.0 * members @ members.T, 0.0))
        spread[k] = distances[np.triu_indices(len(members), 1)].mean()
    return spread


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------


def labelled_dataset(images: object, labels: object, batch_size: int = 128, seed: int = 42) -> Any:
    """Shuffled ``(image in [-1, 1], label)`` batches as a ``tf.data.Dataset``."""
    import tensorflow as tf

    batch = data.to_tanh_range(data.as_batch(images))
    classes = as_labels(labels)
    if len(batch) != len(classes):
        raise ValueError(f"got {len(batch)} images and {len(classes)} labels: they must pair up.")
    if len(batch) < batch_size:
        raise ValueError(f"only {len(batch)} images for batches of {batch_size}: use a smaller batch_size.")
    return data.without_autotuning(
        tf.data.Dataset.from_tensor_slices((batch, classes))
        .shuffle(len(batch), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .prefetch(2)
    )


#: The book's conditional GAN for Fashion-MNIST (the model store's key). The
#: same networks, learning rate and batch size as the unconditional GAN of
#: chapter 7 (see :data:`gan.FASHION_GAN`), without the changes that chapter
#: adopted later (the full-resolution generator stage, the learning-rate
#: decay, Adam's beta_1 of 0 instead of 0.5):
#: chapter 10's measurements, the three-seed augmentation experiment among
#: them, were made without them.
FASHION_CGAN: dict[str, Any] = {
    "latent_dim": gan.LATENT_DIM,
    "embedding_dim": 16,
    "generator_widths": (64, 32),
    "discriminator_widths": (32, 64),
    "discriminator_dropout": 0.0,
    "learning_rate": 2e-3,
    "beta_1": 0.5,
    "batch_size": 128,
    "epochs": 3,
    "seed": 42,
    "per_class": None,  # None: all 60,000 training images; an integer: that many per class
    "subset_seed": 0,  # which images per_class picks (unused with per_class None)
}

#: A conditional GAN that sees only a small labelled set: 100 training images
#: per class (the set of :func:`labelled_subset` with ``subset_seed``). With
#: 1,000 images an epoch is only 15 steps of 64, so it runs many epochs
#: (600 steps in all, a third of the full GAN's 1,400).
SMALL_CGAN: dict[str, Any] = {**FASHION_CGAN, "per_class": 100, "batch_size": 64, "epochs": 40}


def build_conditional_gan(config: dict[str, Any] = FASHION_CGAN) -> ConditionalGAN:
    """A compiled :class:`ConditionalGAN` configured by ``config`` (see :data:`FASHION_CGAN`)."""
    model = ConditionalGAN(
        create_conditional_generator(
            config["latent_dim"], embedding_dim=config["embedding_dim"], widths=config["generator_widths"]
        ),
        create_conditional_discriminator(
            widths=config["discriminator_widths"], dropout=config["discriminator_dropout"]
        ),
        seed=config["seed"],
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=config["beta_1"]),
        g_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=config["beta_1"]),
    )
    return model


def labelled_subset(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` training images of each class, chosen at random with ``seed``: ``(images, labels)``."""
    per_class = gan._check_positive_int(per_class, "per_class")
    (x_train, y_train), _ = data.load_fashion_mnist()
    rng = np.random.default_rng(seed)
    picks = np.concatenate(
        [rng.choice(np.flatnonzero(y_train == k), per_class, replace=False) for k in range(NUM_CLASSES)]
    )
    return x_train[picks], y_train[picks]


def train_conditional_gan(
    config: dict[str, Any] = FASHION_CGAN,
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> tuple[keras.Model, dict[str, Any]]:
    """Train a conditional GAN on Fashion-MNIST: all training images, or ``config["per_class"]`` per class.

    Returns the generator and a record with the loss history, the training
    seconds, and ``arrays["frames"]``: one image per class, from fixed noise,
    before training and after every epoch.
    """
    keras.utils.set_random_seed(config["seed"])
    if config["per_class"] is None:
        (images, labels), _ = data.load_fashion_mnist()
    else:
        images, labels = labelled_subset(config["per_class"], config["subset_seed"])
    model = build_conditional_gan(config)
    frames = ClassFrames()
    dataset = labelled_dataset(images, labels, config["batch_size"], config["seed"])
    start = time.perf_counter()
    history = model.fit(dataset, epochs=config["epochs"], callbacks=[frames, *callbacks], verbose=verbose, shuffle=False)
    seconds = time.perf_counter() - start
    record = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "train_seconds": seconds,
        "epochs": config["epochs"],
        "training_images": int(len(images)),
        "arrays": {"frames": np.stack(frames.frames)},
    }
    return model.generator, record


class ClassFrames(keras.callbacks.Callback):
    """After each epoch, what the generator makes for every class from the same noise.

    Each frame is a uint8 grid: ``rows`` noise vectors down, the classes
    across. ``frames[0]`` is the untrained generator.
    """

    def __init__(self, rows: int = 3, seed: int = 1) -> None:
        super().__init__()
        self.rows, self.seed = rows, seed
        self.frames: list[np.ndarray] = []

    def _record(self) -> None:
        generator = self.model.generator
        noise = np.random.default_rng(self.seed).standard_normal((self.rows, generator.input_shape[0][-1]))
        noise = np.repeat(noise.astype("float32"), NUM_CLASSES, axis=0)
        labels = np.tile(np.arange(NUM_CLASSES, dtype="int32"), self.rows)
        images = generator.predict([noise, labels], verbose=0)
        self.frames.append(plots.image_grid(np.clip((images + 1) / 2, 0, 1), ncols=NUM_CLASSES))

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not self.frames:
            self._record()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._record()


def trained_fashion_cgan(
    config: dict[str, Any] = FASHION_CGAN, verbose: int | str = 2
) -> tuple[keras.Model, dict[str, Any]]:
    """The book's trained conditional generator, from the model store or trained now.

    With :data:`SMALL_CGAN` (or any ``per_class`` set) it is the generator
    that saw only the small labelled set, stored under its own name.
    """
    name = "fashion_cgan_generator" if config["per_class"] is None else "small_cgan_generator"
    return store.load_or_train(name, config, lambda: train_conditional_gan(config, verbose=verbose))


# --------------------------------------------------------------------------
# Does generated data help a classifier trained on a small labelled set?
# --------------------------------------------------------------------------

#: A small, quick CNN for the augmentation experiment (arguments of
#: :func:`cnn.create_cnn_model`): the book's Fashion-MNIST CNN at half width.
SMALL_CNN: dict[str, Any] = {**cnn.FASHION_CNN, "num_classes": NUM_CLASSES, "filters": (16, 32), "dense_units": 64}

#: Where the extra images come from, in the order of the result table.
SOURCES: tuple[str, ...] = ("none", "shift_flip", "small_cgan", "full_cgan")

#: The experiment (its result table is stored under this key). Every arm
#: trains the same CNN for the same number of steps on the same small set,
#: plus ``extra_per_class`` images per class from its source.
AUGMENTATION_EXPERIMENT: dict[str, Any] = {
    "per_class": SMALL_CGAN["per_class"],
    "subset_seed": SMALL_CGAN["subset_seed"],
    "extra_per_class": 100,
    "sources": SOURCES,
    "seeds": (0, 1, 2),
    "steps": 600,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "cnn": SMALL_CNN,
    "small_cgan": SMALL_CGAN,
    "full_cgan": FASHION_CGAN,
}


def shift_flip(images: np.ndarray, count: int, seed: int = 0, max_shift: int = 2) -> np.ndarray:
    """``count`` copies of random ``images``, each shifted by up to ``max_shift`` pixels and mirrored at random.

    The classic, free augmentation that generated images have to beat.
    Returns uint8 images like the input (``(n, 28, 28)``).
    """
    count = gan._check_positive_int(count, "count")
    rng = np.random.default_rng(seed)
    source = np.asarray(images)[rng.integers(0, len(images), count)]
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
    images: np.ndarray,
    labels: np.ndarray,
    per_class: int,
    seed: int,
    generators: dict[str, keras.Model],
) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` extra training images per class from ``source``, as uint8 ``(images, labels)``.

    ``"shift_flip"`` transforms the real ``images``; any other source names
    a conditional generator in ``generators`` (see :data:`SOURCES`).
    """
    if source == "shift_flip":
        parts = [shift_flip(images[labels == k], per_class, seed=seed * 100 + k) for k in range(NUM_CLASSES)]
        return np.concatenate(parts), np.repeat(np.arange(NUM_CLASSES, dtype="uint8"), per_class)
    if source in generators:
        made, made_labels = sample_classes(generators[source], per_class, seed=seed + 1000)
        return np.round(made[..., 0] * 255).astype("uint8"), made_labels.astype("uint8")
    raise ValueError(f"unknown source {source!r}: choose one of {', '.join(SOURCES)}.")


def train_small_cnn(
    images: np.ndarray,
    labels: np.ndarray,
    steps: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    cnn_config: dict[str, Any] = SMALL_CNN,
) -> keras.Model:
    """Train :data:`SMALL_CNN` for a fixed number of ``steps`` on batches drawn from all of ``images``.

    The learning rate warms up to ``learning_rate`` and decays to zero
    (:func:`cnn.one_cycle_schedule`), so the last step is a settled model
    whatever the number of images.
    """
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = cnn.compile_classifier(
        cnn.create_cnn_model(**cnn_config),
        cnn.one_cycle_schedule(steps, learning_rate),
        steps_per_execution=math.gcd(steps, 50),  # fewer calls, same steps (see compile_classifier)
    )
    dataset = data.without_autotuning(
        tf.data.Dataset.from_tensor_slices((data.as_batch(images), np.asarray(labels, "int32")))
        .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
        .repeat()
        .batch(batch_size)
        .prefetch(2)
    )
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model


def run_augmentation_experiment(
    config: dict[str, Any] = AUGMENTATION_EXPERIMENT, verbose: bool = True
) -> dict[str, Any]:
    """Test accuracy of the small CNN for every source and seed: the record of :func:`augmentation_results`.

    ``arrays["accuracy"]`` has one row per source and one column per seed,
    each measured on all 10,000 Fashion-MNIST test images. The small cGAN
    must have been trained on exactly the experiment's labelled set: a
    generator that saw more labelled images would leak them into the result.
    """
    images, labels = labelled_subset(config["per_class"], config["subset_seed"])
    small = config["small_cgan"]
    if (small["per_class"], small["subset_seed"]) != (config["per_class"], config["subset_seed"]):
        raise ValueError(
            "the small cGAN must be trained on the experiment's own labelled set "
            "(same per_class and subset_seed), or it leaks other labelled images into the result."
        )
    generators = {
        "small_cgan": trained_fashion_cgan(config["small_cgan"], verbose=0)[0],
        "full_cgan": trained_fashion_cgan(config["full_cgan"], verbose=0)[0],
    }
    _, (x_test, y_test) = data.load_fashion_mnist()
    accuracy = np.zeros((len(config["sources"]), len(config["seeds"])))
    start = time.perf_counter()
    for i, source in enumerate(config["sources"]):
        for j, seed in enumerate(config["seeds"]):
            x, y = images, labels
            if source != "none":
                x_extra, y_extra = extra_images(source, images, labels, config["extra_per_class"], seed, generators)
                x, y = np.concatenate([images, x_extra]), np.concatenate([labels, y_extra])
            model = train_small_cnn(
                x, y, config["steps"], config["batch_size"], config["learning_rate"], seed, config["cnn"]
            )
            accuracy[i, j] = np.mean(cnn.predict_classes(model, x_test) == y_test)
            if verbose:
                print(f"{source:>11s} seed {seed}: test accuracy {accuracy[i, j]:.4f}", flush=True)
    return {
        "sources": list(config["sources"]),
        "seeds": list(config["seeds"]),
        "seconds": time.perf_counter() - start,
        "arrays": {"accuracy": accuracy},
    }


def augmentation_results(config: dict[str, Any] = AUGMENTATION_EXPERIMENT, verbose: bool = True) -> dict[str, Any]:
    """The experiment's result table, from the store or computed now (:func:`run_augmentation_experiment`)."""
    return store.load_or_compute(
        "augmentation_experiment", config, lambda: run_augmentation_experiment(config, verbose)
    )
