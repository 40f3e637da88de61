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
of the requested class. :class:`ConditionalGAN` trains them with
:meth:`gan.GAN.train_step` itself: its batches are ``(images, labels)`` pairs,
which the discriminator takes as they are, and it changes only
:meth:`~gan.GAN.generate_batch`, which asks for random classes and pairs each
generated image with the class it was asked to be.

:data:`SMALL_CGAN` is the same model trained on a small labelled set only,
for chapter 10's augmentation experiment (:mod:`visionbook.augmentation`).
"""

from __future__ import annotations

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
    names = data.FASHION_MNIST_CLASSES[:num_classes]
    indices = checks.as_class_indices(labels, num_classes, argument, class_names=names, whole_floats=False)
    return indices.astype("int32")


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
    to the noise; :func:`gan.create_generator` with ``widths`` does the rest
    (two widths: the plain design, whose second transposed convolution makes
    the image), so the only new part is how the request enters.
    """
    latent_dim = checks.check_positive_int(latent_dim, "latent_dim")
    num_classes = checks.check_positive_int(num_classes, "num_classes", minimum=2)
    embedding_dim = checks.check_positive_int(embedding_dim, "embedding_dim")
    noise = keras.Input(shape=(latent_dim,), name="noise")
    label = keras.Input(shape=(), dtype="int32", name="label")
    request = layers.Embedding(num_classes, embedding_dim, name="label_embedding")(label)
    joined = layers.Concatenate(name="noise_and_label")([noise, request])
    body = gan.create_generator(latent_dim + embedding_dim, widths=widths, name="body")
    return keras.Model([noise, label], body(joined), name=name)


def create_conditional_discriminator(
    num_classes: int = NUM_CLASSES,
    widths: Sequence[int] = (32, 64),
    name: str = "conditional_discriminator",
) -> keras.Model:
    """``(image (28, 28, 1), label ())`` -> one logit: a real image of that class (>0) or not.

    The trunk is :func:`gan.create_discriminator` (without the minibatch
    spread channel) up to its last layer; the projection head adds
    ``e(label) . features`` to the usual score.
    """
    num_classes = checks.check_positive_int(num_classes, "num_classes", minimum=2)
    plain = gan.create_discriminator(widths, minibatch_std=False, name="plain")
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
    training step is :meth:`gan.GAN.train_step`, unchanged: the discriminator
    takes an ``(images, labels)`` pair as it comes, so only the generated
    batch differs. :meth:`generate_batch` asks for random classes and returns
    the generated images paired with the class each was asked to be.
    """

    def __init__(self, generator, discriminator, num_classes=NUM_CLASSES, seed=42):
        latent_dim, num_classes = checks.conditional_players(generator, discriminator, num_classes)
        super().__init__(generator, discriminator, latent_dim=latent_dim, seed=seed)
        self.num_classes = num_classes

    def check_players(self, generator, discriminator, latent_dim):
        return latent_dim  # checked in __init__, as a conditional pair (checks.conditional_players)

    def generate_batch(self, real):
        if not (isinstance(real, (tuple, list)) and len(real) == 2):
            raise ValueError(
                "ConditionalGAN.fit needs (images, labels) batches: fit(labelled_dataset(images, labels)) "
                "or fit(images, labels). (train_on_batch adds a third part, sample weights: use fit.)"
            )
        batch_size = ops.shape(real[0])[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        labels = keras.random.randint((batch_size,), 0, self.num_classes, seed=self.seed_generator, dtype="int32")
        return self.generator([noise, labels], training=True), labels


# --------------------------------------------------------------------------
# Asking a trained generator for classes
# --------------------------------------------------------------------------


def generate(generator: keras.Model, labels: object, noise: object | None = None, seed: int = 0) -> np.ndarray:
    """Images in [0, 1], one per requested label, shape ``(n, 28, 28, 1)``.

    ``labels`` are class indices or names; ``noise`` is ``(n, latent_dim)``
    (drawn from ``seed`` when omitted). Mismatches are explained.
    """
    latent_dim, num_classes = checks.conditional_generator_sizes(generator)
    classes = as_labels(labels, num_classes)
    seed = checks.check_seed(seed)
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
    _, num_classes = checks.conditional_generator_sizes(generator)
    if classes is None:
        wanted = np.arange(num_classes, dtype="int32")
    else:
        wanted = as_labels(classes, num_classes, argument="classes")
    per_class = checks.image_count(per_class, generator, "per_class", per=len(wanted))
    seed = checks.check_seed(seed)
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
    wanted = as_labels(labels, checks.classifier_classes(judge, "judge"))
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
    num_classes = checks.check_positive_int(num_classes, "num_classes", minimum=2)
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
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    seed = checks.check_seed(seed)
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


#: The book's conditional GAN for Fashion-MNIST (the model store's key): the
#: learning rate, batch size and discriminator widths of chapter 7's GAN
#: (:data:`gan.FASHION_GAN`), with the plain generator (two widths: its second
#: transposed convolution makes the image), constant learning rates, and
#: Adam without momentum (beta_1 0, as chapter 7's GAN: with 0.5 the same
#: training step reached a Frechet distance of 49.8 instead of 18.8, see the
#: model-choices appendix).
FASHION_CGAN: dict[str, Any] = {
    "latent_dim": gan.LATENT_DIM,
    "embedding_dim": 16,
    "generator_widths": (64, 32),
    "discriminator_widths": (32, 64),
    "learning_rate": 2e-3,
    "beta_1": 0.0,
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
    checks.check_config(config, FASHION_CGAN, template_name="cgan.FASHION_CGAN")
    model = ConditionalGAN(
        create_conditional_generator(
            config["latent_dim"], embedding_dim=config["embedding_dim"], widths=config["generator_widths"]
        ),
        create_conditional_discriminator(widths=config["discriminator_widths"]),
        seed=config["seed"],
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=config["beta_1"]),
        g_optimizer=keras.optimizers.Adam(config["learning_rate"], beta_1=config["beta_1"]),
    )
    return model


def labelled_subset(per_class: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``per_class`` training images of each class, chosen at random with ``seed``: ``(images, labels)``."""
    per_class = checks.check_positive_int(per_class, "per_class", maximum=6000)  # Fashion-MNIST's per class
    seed = checks.check_seed(seed)
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
    checks.check_config(config, FASHION_CGAN, template_name="cgan.FASHION_CGAN")
    checks.check_config(config, FASHION_CGAN, template_name="cgan.FASHION_CGAN")
    verbose = checks.check_verbose(verbose)
    callbacks = checks.check_callbacks(callbacks)
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
        self.rows = checks.check_count(rows, "rows", item_bytes=3 * 4 * 28 * 28 * NUM_CLASSES)
        self.seed = checks.check_seed(seed)
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
    checks.check_config(config, FASHION_CGAN, template_name="cgan.FASHION_CGAN")
    name = "fashion_cgan_generator" if config["per_class"] is None else "small_cgan_generator"
    return store.load_or_train(name, config, lambda: train_conditional_gan(config, verbose=verbose))

