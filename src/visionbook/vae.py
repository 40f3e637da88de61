"""A small convolutional variational autoencoder (VAE) for 28x28 images.

Chapter 8 writes this code in cells a student can edit and proves that its
networks and its training step are the ones kept here; later chapters load
the trained model with :func:`trained_fashion_vae`.

The encoder maps an image to a Gaussian over a short latent vector (its mean
and log-variance) and draws one vector from it with the reparameterization
trick (:class:`Sampling`); the decoder maps a latent vector back to pixel
probabilities in [0, 1]. :class:`VAE` trains both together in its own
``train_step`` (a ``tf.GradientTape``, as in keras-io's VAE example),
minimising the negative evidence lower bound: reconstruction loss plus the KL
divergence to a standard normal prior. After training the decoder alone is a
generator: feed it vectors drawn from ``N(0, I)`` (:func:`sample`).

Encoder and decoder are stored separately in :mod:`visionbook.store`. The
decoder holds only stock Keras layers, so it loads with plain
``keras.models.load_model``; :class:`Sampling` is registered with Keras so the
stored encoder loads with ``safe_mode=True`` once this module is imported.

The networks, the loss terms and the training step below are lesson code and
check nothing; the public functions check their arguments first
(:mod:`visionbook.checks`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from visionbook import checks, data, store

#: The book's Fashion-MNIST VAE. The appendix page "How the book's models were
#: chosen" records the trials behind these settings.
FASHION_VAE: dict[str, Any] = {
    "latent_dim": 16,
    "filters": (16, 32),
    "dense_units": 128,
    "decoder_kernel": 4,
}

#: Training images held out for validation when ``train_fashion_vae(validation=True)``.
VALIDATION_IMAGES = 10_000


# --------------------------------------------------------------------------
# Lesson code (chapter 8 writes the same): layers, networks, losses, model
# --------------------------------------------------------------------------


@keras.saving.register_keras_serializable(package="visionbook")
class Sampling(layers.Layer):
    """Draw ``z = z_mean + exp(z_log_var / 2) * epsilon`` with ``epsilon ~ N(0, I)``.

    This is the reparameterization trick: the randomness sits in ``epsilon``,
    which depends on no weight, so gradients flow through ``z_mean`` and
    ``z_log_var`` to the encoder. A seed generator makes the draws repeatable.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Sequence[Any]) -> Any:
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


def _encoder(latent_dim: int, filters: Sequence[int], dense_units: int, seed: int | None,
             name: str) -> keras.Model:
    images = keras.Input(shape=(28, 28, 1))
    x = layers.Conv2D(filters[0], 3, strides=2, padding="same", activation="relu")(images)
    x = layers.Conv2D(filters[1], 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(seed=seed, name="z")([z_mean, z_log_var])
    return keras.Model(images, [z_mean, z_log_var, z], name=name)


def _decoder(latent_dim: int, filters: Sequence[int], kernel: int, name: str) -> keras.Model:
    latents = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * filters[1], activation="relu")(latents)
    x = layers.Reshape((7, 7, filters[1]))(x)
    x = layers.Conv2DTranspose(filters[1], kernel, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(filters[0], kernel, strides=2, padding="same", activation="relu")(x)
    images = layers.Conv2D(1, 3, padding="same", activation="sigmoid")(x)
    return keras.Model(latents, images, name=name)


def _reconstruction_loss(images: Any, reconstructions: Any) -> Any:
    per_pixel = keras.losses.binary_crossentropy(images, reconstructions)  # (n, 28, 28)
    return ops.sum(per_pixel, axis=(1, 2))


def _kl_divergence(z_mean: Any, z_log_var: Any) -> Any:
    terms = 1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var)
    return -0.5 * ops.sum(terms, axis=1)


class VAE(keras.Model):
    """An encoder and a decoder trained together as a variational autoencoder.

    ``fit`` takes images in [0, 1] alone (no labels), as keras-io's VAE does;
    ``train_on_batch``, which passes ``(x, y, sample_weight)``, is not meant
    for it. The loss per image is the negative evidence lower bound:
    reconstruction loss plus ``beta`` times the KL term (``beta=1``, the VAE;
    other values give a beta-VAE). The total and both terms are tracked
    separately, so the history shows the trade-off.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, beta: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.beta = beta
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, images: Any, training: bool = False) -> Any:
        _, _, z = self.encoder(images, training=training)
        return self.decoder(z, training=training)

    def batch_losses(self, images: Any, training: bool = False) -> tuple[Any, Any]:
        """The batch's mean reconstruction loss and mean KL term (one draw of ``z`` per image)."""
        z_mean, z_log_var, z = self.encoder(images, training=training)
        reconstructions = self.decoder(z, training=training)
        reconstruction = ops.mean(_reconstruction_loss(images, reconstructions))
        kl = ops.mean(_kl_divergence(z_mean, z_log_var))
        return reconstruction, kl

    def record(self, reconstruction: Any, kl: Any) -> dict[str, Any]:
        """Update the three trackers; return their running means (what ``fit`` prints)."""
        self.loss_tracker.update_state(reconstruction + self.beta * kl)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, images: Any) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            reconstruction, kl = self.batch_losses(images, training=True)
            loss = reconstruction + self.beta * kl
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self.record(reconstruction, kl)

    def test_step(self, images: Any) -> dict[str, Any]:
        return self.record(*self.batch_losses(images))


# --------------------------------------------------------------------------
# Public entry points: check the arguments, then build or compute
# --------------------------------------------------------------------------


def _check_filters(filters: object) -> tuple[int, ...]:
    return checks.check_widths(filters, "filters", count=2)  # channels at 14x14 and at 7x7


def create_encoder(
    latent_dim: int = FASHION_VAE["latent_dim"],
    filters: Sequence[int] = FASHION_VAE["filters"],
    dense_units: int = FASHION_VAE["dense_units"],
    seed: int | None = None,
    name: str = "encoder",
) -> keras.Model:
    """Image ``(28, 28, 1)`` in [0, 1] -> ``[z_mean, z_log_var, z]``.

    Two stride-2 convolutions halve the image twice (28 -> 14 -> 7), a dense
    layer condenses the features, and two dense heads give the mean and the
    log-variance of the Gaussian the image is encoded as; :class:`Sampling`
    draws ``z`` from it. The log-variance, not the variance, is predicted so
    that any real number is valid.
    """
    latent_dim = checks.check_positive_int(latent_dim, "latent_dim")
    widths = _check_filters(filters)
    dense_units = checks.check_positive_int(dense_units, "dense_units")
    seed = None if seed is None else checks.check_seed(seed)
    return _encoder(latent_dim, widths, dense_units, seed, checks.check_name(name))


def create_decoder(
    latent_dim: int = FASHION_VAE["latent_dim"],
    filters: Sequence[int] = FASHION_VAE["filters"],
    decoder_kernel: int = FASHION_VAE["decoder_kernel"],
    name: str = "decoder",
) -> keras.Model:
    """Latent vector ``(latent_dim,)`` -> image ``(28, 28, 1)`` in [0, 1].

    The encoder in reverse: a dense layer makes a 7x7 grid, two stride-2
    transposed convolutions with ``decoder_kernel`` x ``decoder_kernel``
    kernels enlarge it to 14x14 and 28x28 (kernel 4, a multiple of the
    stride, overlaps evenly), and a 3x3 convolution with a sigmoid gives one
    probability per pixel.
    """
    latent_dim = checks.check_positive_int(latent_dim, "latent_dim")
    widths = _check_filters(filters)
    kernel = checks.check_positive_int(decoder_kernel, "decoder_kernel")
    return _decoder(latent_dim, widths, kernel, checks.check_name(name))


def _as_real(x: Any, argument: str) -> Any:
    """Tensors pass unchanged; arrays and lists become float32 after a check."""
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.number)):
        return checks.to_float32(checks.as_numeric_array(x, argument))
    return x


def _as_unit(x: Any, argument: str) -> Any:
    """Tensors pass unchanged; arrays must hold pixel values, uint8 or in [0, 1]."""
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.number)):
        return data.to_unit_range(x, argument=argument)
    return x


def _static_shape(x: Any) -> tuple[int | None, ...]:
    """The shape known without running anything: None for a dimension set only at run time."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    return tuple(None if d is None else int(d) for d in shape)


def _shapes_agree(a: Sequence[Any], b: Sequence[Any], ndim: int) -> bool:
    """Equal shapes of ``ndim`` axes, where an unknown dimension matches anything."""
    return len(a) == len(b) == ndim and all(x is None or y is None or x == y for x, y in zip(a, b))


def reconstruction_loss(images: Any, reconstructions: Any) -> Any:
    """Binary cross-entropy summed over the pixels of each image: shape ``(n,)``.

    This is the negative log-likelihood of the images under the decoder's
    pixel probabilities. Summing (not averaging) keeps it on the same
    per-image scale as the KL term.
    """
    images = _as_unit(images, "images")
    reconstructions = _as_unit(reconstructions, "reconstructions")
    shape_a, shape_b = _static_shape(images), _static_shape(reconstructions)
    if not _shapes_agree(shape_a, shape_b, 4):
        raise ValueError(
            f"images and reconstructions must both have shape (n, height, width, channels), "
            f"got {shape_a} and {shape_b}."
        )
    return _reconstruction_loss(images, reconstructions)


def kl_divergence(z_mean: Any, z_log_var: Any) -> Any:
    """KL divergence of ``N(z_mean, exp(z_log_var))`` from ``N(0, I)``: shape ``(n,)``."""
    z_mean, z_log_var = _as_real(z_mean, "z_mean"), _as_real(z_log_var, "z_log_var")
    mean_shape, log_var_shape = _static_shape(z_mean), _static_shape(z_log_var)
    if not _shapes_agree(mean_shape, log_var_shape, 2):
        raise ValueError(
            f"z_mean and z_log_var must both have shape (n, latent_dim), "
            f"got {mean_shape} and {log_var_shape}."
        )
    return _kl_divergence(z_mean, z_log_var)


def _model_settings(overrides: dict[str, Any], argument: str) -> dict[str, Any]:
    """:data:`FASHION_VAE` with ``overrides`` (checked: known names, sensible values)."""
    checks.check_config(overrides, FASHION_VAE, argument, optional=FASHION_VAE)
    return {**FASHION_VAE, **overrides}


def create_vae(seed: int | None = None, beta: float = 1.0, **overrides: Any) -> VAE:
    """The book's VAE (:data:`FASHION_VAE`, with ``overrides``), not yet compiled.

    ``seed`` seeds the encoder's :class:`Sampling` layer; ``beta`` weighs the
    KL term (1: the VAE of chapter 8).
    """
    config = _model_settings(overrides, "create_vae")
    beta = checks.check_number(beta, "beta", low=0.0)
    encoder = create_encoder(config["latent_dim"], config["filters"], config["dense_units"], seed)
    decoder = create_decoder(config["latent_dim"], config["filters"], config["decoder_kernel"])
    return VAE(encoder, decoder, beta=beta, name="vae")


def training_batches(images: np.ndarray, batch_size: int = 128, seed: int = 42) -> Any:
    """Shuffled batches of images alone (a VAE needs no labels), reshuffled every epoch.

    Chapter 4's standard ``tf.data`` pipeline without the labels: shuffle all
    images with a fixed seed, batch, prefetch two batches, with tf.data's
    autotuning off (:func:`data.shuffled_batches`).
    """
    batch = data.as_batch(images)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    seed = checks.check_seed(seed)
    return data.shuffled_batches(batch, batch_size, seed)


def train_fashion_vae(
    epochs: int = 3,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 42,
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    model: dict[str, Any] | None = None,
    validation: bool = False,
) -> tuple[VAE, dict[str, Any]]:
    """Train :func:`create_vae` (``model``: settings that differ from :data:`FASHION_VAE`).

    By default it trains on all 60,000 Fashion-MNIST training images and
    evaluates once on the 10,000 test images (``record["test_losses"]``).
    With ``validation=True`` it holds out the last
    :data:`VALIDATION_IMAGES` training images instead, trains on the rest and
    reports ``record["validation_losses"]``, leaving the test set untouched:
    that is how the settings were chosen. The record also keeps the
    per-epoch history (loss, reconstruction_loss, kl_loss) and the seconds.
    """
    epochs = checks.check_positive_int(epochs, "epochs")
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    checks.check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    seed = checks.check_seed(seed)
    verbose = checks.check_verbose(verbose)
    callbacks = checks.check_callbacks(callbacks)
    validation = checks.check_flag(validation, "validation")
    settings = _model_settings({} if model is None else model, "model")
    keras.utils.set_random_seed(seed)
    (x_train, _), (x_test, _) = data.fashion_mnist_for_training()
    if validation:
        x_train, x_test = x_train[:-VALIDATION_IMAGES], x_train[-VALIDATION_IMAGES:]
    vae = create_vae(seed=seed, **settings)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    start = time.perf_counter()
    history = vae.fit(
        training_batches(x_train, batch_size, seed),
        epochs=epochs,
        verbose=verbose,
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles
    )
    seconds = time.perf_counter() - start
    held_out = vae.evaluate(x_test, batch_size=1000, verbose=0, return_dict=True)
    record = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "train_seconds": seconds,
        ("validation_losses" if validation else "test_losses"): {
            k: float(v) for k, v in held_out.items()
        },
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "model": settings,
    }
    return vae, record


#: How the book's Fashion-MNIST VAE is trained (the model store's key).
FASHION_VAE_TRAINING: dict[str, Any] = {
    "model": FASHION_VAE,
    "epochs": 3,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "seed": 42,
}

ENCODER_NAME = "fashion_vae_encoder"
DECODER_NAME = "fashion_vae_decoder"


def trained_fashion_vae(verbose: int | str = 2) -> tuple[keras.Model, keras.Model, dict[str, Any]]:
    """The book's trained VAE as ``(encoder, decoder, record)``, from the store or trained now.

    Encoder and decoder are stored under one configuration key; if either is
    missing or unreadable both are trained again, so they always match. The
    record's ``loaded_from_store`` says whether training happened in this call.
    """
    encoder = store.load(ENCODER_NAME, FASHION_VAE_TRAINING)
    decoder = store.load(DECODER_NAME, FASHION_VAE_TRAINING)
    if encoder is not None and decoder is not None:
        return encoder[0], decoder[0], {**decoder[1], "loaded_from_store": True}
    start = time.perf_counter()
    vae, record = train_fashion_vae(**FASHION_VAE_TRAINING, verbose=verbose)
    record = {"wall_seconds": time.perf_counter() - start, **record}  # as store.load_or_train keeps it
    # The half that was found is replaced too: the two must come from one training run.
    store.save(vae.encoder, ENCODER_NAME, FASHION_VAE_TRAINING, record, overwrite=True)
    store.save(vae.decoder, DECODER_NAME, FASHION_VAE_TRAINING, record, overwrite=True)
    return vae.encoder, vae.decoder, {**record, "loaded_from_store": False}


# --------------------------------------------------------------------------
# Using a trained VAE: encode, decode, sample
# --------------------------------------------------------------------------


def _latent_dim(decoder: keras.Model) -> int:
    return checks.latent_input_size(decoder, "decoder")


def _encoder_latent_dim(encoder: keras.Model) -> int:
    """The latent length of an encoder built by :func:`create_encoder`, or a clear error."""
    checks.image_input_shape(encoder, "encoder")
    outputs = encoder.output_shape
    if not (isinstance(outputs, list) and len(outputs) == 3 and all(len(s) == 2 for s in outputs)):
        raise ValueError(
            f"encoder outputs {outputs}, but a VAE encoder returns [z_mean, z_log_var, z], "
            "three (None, latent_dim) arrays (see create_encoder)."
        )
    return int(outputs[0][-1])


def _check_pair(encoder: keras.Model, decoder: keras.Model) -> None:
    encoded, decoded = _encoder_latent_dim(encoder), _latent_dim(decoder)
    if encoded != decoded:
        raise ValueError(
            f"encoder makes latent vectors of length {encoded} but decoder takes {decoded}: "
            "pass an encoder and a decoder trained together."
        )


def encode(encoder: keras.Model, images: object, batch_size: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``(z_mean, z_log_var)`` of ``images`` (uint8 or [0, 1], with or without channel axis)."""
    _encoder_latent_dim(encoder)
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    batch = data.as_batch(images, checks.image_input_shape(encoder, "encoder")[:2], 1)
    z_mean, z_log_var, _ = encoder.predict(batch, batch_size=batch_size, verbose=0)
    return z_mean, z_log_var


def decode(decoder: keras.Model, latents: object, batch_size: int = 1000) -> np.ndarray:
    """Images ``(n, 28, 28, 1)`` in [0, 1] for latent vectors of the decoder's size."""
    array = checks.as_latent_batch(latents, _latent_dim(decoder), argument="latents")
    batch_size = checks.check_positive_int(batch_size, "batch_size")
    return decoder.predict(array, batch_size=batch_size, verbose=0)


def reconstruct(encoder: keras.Model, decoder: keras.Model, images: object) -> np.ndarray:
    """Decode each image's mean latent vector: the VAE's best guess of the image.

    The mean, not a random draw, is used so that the result is repeatable.
    """
    _check_pair(encoder, decoder)
    z_mean, _ = encode(encoder, images)
    return decode(decoder, z_mean)


def reconstruction_errors(encoder: keras.Model, decoder: keras.Model, images: object) -> np.ndarray:
    """Per-image reconstruction loss (binary cross-entropy summed over pixels)."""
    _check_pair(encoder, decoder)
    batch = data.as_batch(images)
    return np.asarray(reconstruction_loss(batch, reconstruct(encoder, decoder, batch)))


def sample(decoder: keras.Model, count: int, seed: int = 0, std: float = 1.0) -> np.ndarray:
    """``count`` new images ``(count, 28, 28, 1)`` in [0, 1], decoded from ``N(0, std^2 I)``.

    ``std=1`` samples the prior the VAE was trained towards; a larger value
    reaches regions of the latent space the training images rarely used.
    """
    latent_dim = _latent_dim(decoder)
    count = checks.image_count(count, decoder, model_argument="decoder")
    seed = checks.check_seed(seed)
    std = checks.check_number(std, "std", low=0.0, low_open=True)
    latents = np.random.default_rng(seed).standard_normal((count, latent_dim)) * std
    return decode(decoder, latents.astype("float32"))


def interpolate(encoder: keras.Model, decoder: keras.Model, start: object, end: object, steps: int = 8) -> np.ndarray:
    """Images decoded along the straight line between two images' mean latent vectors."""
    _check_pair(encoder, decoder)
    steps = checks.check_positive_int(steps, "steps", minimum=2)  # both ends
    z_mean, _ = encode(
        encoder, np.concatenate([data.as_batch(start, argument="start"), data.as_batch(end, argument="end")])
    )
    if len(z_mean) != 2:
        raise ValueError(f"start and end must be one image each, got {len(z_mean)} images.")
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return decode(decoder, (1.0 - weights) * z_mean[0] + weights * z_mean[1])
