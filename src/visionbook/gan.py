"""Generative adversarial networks for 28x28 images, in Keras 3.

The networks of chapters 5 and 6 (:func:`create_generator`,
:func:`create_discriminator`, stock Keras layers plus the weightless
:class:`MinibatchStdDev`) and the :class:`GAN` model of chapter 7, whose
``train_step`` trains both with one optimizer each: the working Keras 3
replacement for the article's ``discriminator.trainable = False`` recipe.
:data:`FASHION_GAN` is the book's configuration and
:func:`trained_fashion_gan` the trained generator that later chapters use.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from visionbook import checks, data, plots, store

LATENT_DIM = 100


def create_generator(
    latent_dim: int = LATENT_DIM, widths: Sequence[int] = (64, 32, 8), channels: int = 1, name: str = "generator"
) -> keras.Model:
    """Noise ``(latent_dim,)`` -> image ``(28, 28, channels)`` in [-1, 1]: the generator of chapter 5.

    A dense layer makes a 7x7 grid of ``widths[0]`` feature maps; two
    transposed convolutions of stride 2 double it to 14x14 (``widths[1]``
    maps) and 28x28 (``widths[2]`` maps), and a 3x3 convolution turns each
    pixel's neighbourhood of those maps into the image. BatchNormalization
    keeps the signal in a trainable range and ``tanh`` bounds the output.
    With two ``widths`` the second transposed convolution makes the image
    itself (the plain design, which chapter 10's conditional generator keeps).
    """
    latent_dim = checks.check_positive_int(latent_dim, "latent_dim")
    widths = checks.check_widths(widths, "widths")
    if len(widths) not in (2, 3):
        raise ValueError(f"widths needs 3 entries (maps at 7x7, 14x14, 28x28) or 2 (7x7, 14x14), got {widths!r}.")
    channels = checks.check_positive_int(channels, "channels")

    noise = keras.Input(shape=(latent_dim,), name="noise")
    x = layers.Dense(7 * 7 * widths[0], use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, widths[0]))(x)
    for width in widths[1:]:  # 7x7 -> 14x14 -> 28x28
        x = layers.Conv2DTranspose(width, 4, strides=2, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    if len(widths) == 2:  # the plain design: 14x14 maps -> the 28x28 image
        image = layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation="tanh", name="image")(x)
        return keras.Model(noise, image, name=name)
    image = layers.Conv2D(channels, 3, padding="same", activation="tanh", name="image")(x)
    return keras.Model(noise, image, name=name)


@keras.saving.register_keras_serializable(package="visionbook")
class MinibatchStdDev(layers.Layer):
    """Append one feature map holding how much the batch's features vary (Karras et al., 2018).

    The standard deviation of every feature across the batch, averaged over
    positions and channels: one number, repeated at every position. A
    generator that collapses onto a few outputs makes batches that vary less
    than real ones, and this channel lets the discriminator see it. No weights.
    """

    def call(self, x: Any) -> Any:
        spread = ops.mean(ops.sqrt(ops.var(x, axis=0) + 1e-8))
        return ops.concatenate([x, ops.ones_like(x[..., :1]) * spread], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], input_shape[-1] + 1)


def create_discriminator(
    widths: Sequence[int] = (32, 64), minibatch_std: bool = True, channels: int = 1, name: str = "discriminator"
) -> keras.Model:
    """Image ``(28, 28, channels)`` in [-1, 1] -> one logit, real (>0) or fake: the discriminator of chapter 6.

    Two strided convolutions (28 -> 14 -> 7) with ``widths`` feature maps,
    a :class:`MinibatchStdDev` channel between them (``minibatch_std``), and
    a dense output. It returns a logit, not a probability: the loss applies
    the sigmoid in a numerically stable way.
    """
    widths = checks.check_widths(widths, "widths", count=2)
    minibatch_std = checks.check_flag(minibatch_std, "minibatch_std")
    channels = checks.check_positive_int(channels, "channels")

    image = keras.Input(shape=(28, 28, channels), name="image")
    x = layers.Conv2D(widths[0], 4, strides=2, padding="same")(image)
    x = layers.LeakyReLU(0.2)(x)
    if minibatch_std:
        x = MinibatchStdDev()(x)
    x = layers.Conv2D(widths[1], 4, strides=2, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(image, logit, name=name)


class GAN(keras.Model):
    """A generator and a discriminator trained against each other (chapter 7).

    ``fit`` takes batches of real images in [-1, 1]. Each step makes one
    generated batch and scores both batches once; the discriminator's loss
    asks for real -> 1 and generated -> 0, the generator's (non-saturating)
    loss asks for generated -> 1, and each optimizer updates only its own
    network. :meth:`generate_batch` is the one part a conditional GAN changes.
    The class is chapter 7's, plus the first two lines of ``__init__``: the
    package checks what it is given (``latent_dim`` defaults to the
    generator's noise length).
    """

    def __init__(self, generator, discriminator, latent_dim=None, seed=42):
        latent_dim = self.check_players(generator, discriminator, latent_dim)
        seed = checks.check_seed(seed)
        super().__init__()
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="real_score")
        self.fake_score_tracker = keras.metrics.Mean(name="fake_score")

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def check_players(self, generator, discriminator, latent_dim):
        """The noise length, once the two networks are checked (not part of chapter 7's lesson)."""
        return checks.generator_and_discriminator(generator, discriminator, latent_dim)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker,
                self.real_score_tracker, self.fake_score_tracker]

    def generate_batch(self, real_images):
        """As many generated images as there are real ones (the conditional GAN overrides this)."""
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim),
                                    seed=self.seed_generator)
        return self.generator(noise, training=True)

    def train_step(self, real_images):
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake_images = self.generate_batch(real_images)
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake_images, training=True)
            # The discriminator: real images -> 1, generated ones -> 0.
            d_loss = (self.loss_fn(ops.ones_like(real_logits), real_logits)
                      + self.loss_fn(ops.zeros_like(fake_logits), fake_logits))
            # The generator: its images -> 1 (the non-saturating loss).
            g_loss = self.loss_fn(ops.ones_like(fake_logits), fake_logits)
        d_weights = self.discriminator.trainable_weights
        g_weights = self.generator.trainable_weights
        d_grads = d_tape.gradient(d_loss, d_weights)
        g_grads = g_tape.gradient(g_loss, g_weights)
        self.d_optimizer.apply_gradients(zip(d_grads, d_weights))
        self.g_optimizer.apply_gradients(zip(g_grads, g_weights))

        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}


def sample(generator: keras.Model, count: int, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
    """``count`` generated images as float32 in [0, 1], shape ``(count, 28, 28, c)``."""
    latent_dim = checks.latent_input_size(generator, "generator")
    count = checks.image_count(count, generator)
    seed = checks.check_seed(seed)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    noise = np.random.default_rng(seed).standard_normal((count, latent_dim)).astype("float32")
    images = generator.predict(noise, batch_size=batch_size, verbose=0)
    return np.clip((images + 1.0) / 2.0, 0.0, 1.0)


def generate(generator: keras.Model, noise: object) -> np.ndarray:
    """Images in [0, 1] for the given noise vectors, with a clear error on a size mismatch."""
    array = checks.as_latent_batch(noise, checks.latent_input_size(generator, "generator"), argument="noise")
    images = generator.predict(array, verbose=0)
    return np.clip((images + 1.0) / 2.0, 0.0, 1.0)


class SampleGrid(keras.callbacks.Callback):
    """Record what the generator makes from the same noise after each epoch.

    Fixed noise makes the frames comparable: each shows the same 'requests'
    answered by a better-trained generator. ``frames[0]`` is the untrained
    generator, and each later frame follows one epoch.
    """

    def __init__(self, count: int = 32, seed: int = 1, ncols: int = 8) -> None:
        super().__init__()
        self.count = checks.check_count(count, "count", item_bytes=3 * 4 * 28 * 28)  # images a frame
        self.seed = checks.check_seed(seed)
        self.ncols = checks.check_positive_int(ncols, "ncols")
        self.frames: list[np.ndarray] = []

    def _record(self) -> None:
        images = sample(self.model.generator, self.count, seed=self.seed)
        self.frames.append(plots.image_grid(images, ncols=self.ncols))

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not self.frames:
            self._record()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._record()


def real_images_dataset(images: object, batch_size: int = 128, seed: int = 42) -> Any:
    """Shuffled, batched real images in [-1, 1] as a ``tf.data.Dataset``."""
    batch = data.to_tanh_range(data.as_batch(images))
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    seed = checks.check_seed(seed)
    if batch_size > len(batch):
        raise ValueError(
            f"batch_size {batch_size} is larger than the {len(batch)} images: the dataset "
            "drops incomplete batches and would be empty. Pass more images or a smaller batch_size."
        )
    return data.without_autotuning(
        tf.data.Dataset.from_tensor_slices(batch)
        .shuffle(len(batch), seed=seed)
        .batch(batch_size, drop_remainder=True)
        .prefetch(2)
    )


def decay_factor(progress: Any, decay_from: float) -> Any:
    """1 until ``decay_from`` of the way through training, then falling linearly to 0 at the end.

    ``progress`` is the fraction of training done (steps done over all steps,
    or seconds trained over the budget); works on numbers and tensors.
    """
    return ops.clip(ops.convert_to_tensor((1.0 - progress) / (1.0 - decay_from), "float32"), 0.0, 1.0)


class HoldThenLinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Keep ``learning_rate`` for the first ``decay_from`` of ``total_steps``, then fall linearly to 0.

    A GAN stopped after a fixed budget keeps whatever its last updates left:
    at full learning rate the two networks are still pushing each other
    around. Shrinking the steps at the end lets the generator settle on
    what it has learned (see :func:`decay_factor`).
    """

    def __init__(self, learning_rate: float, total_steps: int, decay_from: float) -> None:
        self.learning_rate = checks.check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
        self.total_steps = checks.check_positive_int(total_steps, "total_steps")
        self.decay_from = checks.check_fraction(decay_from, "decay_from")

    def __call__(self, step: Any) -> Any:
        progress = ops.cast(step, "float32") / self.total_steps
        return self.learning_rate * decay_factor(progress, self.decay_from)

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps, "decay_from": self.decay_from}


#: The book's Fashion-MNIST GAN: networks and training (the model store's key).
#: How each setting was chosen, with the alternatives measured: the GAN section
#: of the appendix page book/appendix/model_choices.md.
FASHION_GAN: dict[str, Any] = {
    "latent_dim": LATENT_DIM,  # length of the noise vector the generator turns into an image
    "generator_widths": (64, 32, 8),  # feature maps at 7x7, 14x14 and 28x28 (create_generator)
    "discriminator_widths": (32, 64),  # feature maps at 14x14 and 7x7 (create_discriminator)
    "minibatch_std": True,  # the discriminator sees how much each batch varies (MinibatchStdDev)
    "learning_rate": 2e-3,  # Adam's step size for both networks, held and then decayed
    "beta_1": 0.0,  # Adam without momentum: each step follows the current gradient
    "batch_size": 128,  # real images per step (and as many generated ones)
    "epochs": 3,  # passes over the 60,000 training images
    "decay_from": 0.6,  # learning rates fall linearly to 0 over the last 40% of steps (None: constant)
    "seed": 42,  # weights, noise and shuffling
}


def build_fashion_gan(config: dict[str, Any] = FASHION_GAN, total_steps: int | None = None) -> GAN:
    """A compiled :class:`GAN` configured by ``config`` (see :data:`FASHION_GAN`).

    With ``total_steps`` and a ``decay_from`` in ``config``, both learning
    rates follow :class:`HoldThenLinearDecay` over that many steps. Without
    ``total_steps`` they stay constant (the optimizers' ``learning_rate`` can
    then be set by hand, as ``benchmarks/gan_vs_dcgan_tutorial.py`` does when
    it trains by seconds).
    """
    checks.check_config(config, FASHION_GAN, template_name="gan.FASHION_GAN")
    if total_steps is not None:
        total_steps = checks.check_positive_int(total_steps, "total_steps")
    model = GAN(
        create_generator(config["latent_dim"], config["generator_widths"]),
        create_discriminator(config["discriminator_widths"], config["minibatch_std"]),
        seed=config["seed"],
    )
    learning_rate, beta_1 = config["learning_rate"], config["beta_1"]
    if config["decay_from"] is not None and total_steps is not None:
        learning_rate = HoldThenLinearDecay(learning_rate, total_steps, config["decay_from"])
    model.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=beta_1),
    )
    return model


def train_fashion_gan(
    config: dict[str, Any] = FASHION_GAN, callbacks: Sequence[keras.callbacks.Callback] = (), verbose: int | str = 2
) -> tuple[keras.Model, dict[str, Any]]:
    """Train the book's GAN on all 60,000 Fashion-MNIST training images.

    Returns the generator (the part worth keeping) and a record with the
    loss history, the training seconds, and ``arrays["frames"]``: the fixed-
    noise sample grid before training and after every epoch.
    """
    checks.check_config(config, FASHION_GAN, template_name="gan.FASHION_GAN")
    callbacks = checks.check_callbacks(callbacks)
    verbose = checks.check_verbose(verbose)
    keras.utils.set_random_seed(config["seed"])
    (x_train, _), _ = data.load_fashion_mnist()
    steps_per_epoch = len(x_train) // config["batch_size"]  # the dataset drops the incomplete batch
    model = build_fashion_gan(config, total_steps=config["epochs"] * steps_per_epoch)
    grid = SampleGrid()
    dataset = real_images_dataset(x_train, config["batch_size"], config["seed"])
    start = time.perf_counter()
    history = model.fit(  # the dataset shuffles itself: shuffle=False spares Keras's warning
        dataset, epochs=config["epochs"], callbacks=[grid, *callbacks], verbose=verbose, shuffle=False
    )
    seconds = time.perf_counter() - start
    record = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "train_seconds": seconds,
        "epochs": config["epochs"],
        "arrays": {"frames": np.stack(grid.frames)},
    }
    return model.generator, record


def trained_fashion_gan(verbose: int | str = 2) -> tuple[keras.Model, dict[str, Any]]:
    """The book's trained generator, from the model store or trained now."""
    verbose = checks.check_verbose(verbose)
    return store.load_or_train(
        "fashion_gan_generator", FASHION_GAN, lambda: train_fashion_gan(FASHION_GAN, verbose=verbose)
    )
