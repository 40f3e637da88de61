"""A small convolutional variational autoencoder (VAE) for 28x28 images.

The encoder maps an image to a Gaussian over a short latent vector (its mean
and log-variance) and draws one vector from it with the reparameterization
trick (:class:`Sampling`); the decoder maps a latent vector back to pixel
probabilities in [0, 1].  :class:`VAE` trains both together in its own
``train_step`` (TensorFlow ``GradientTape``, as :class:`visionbook.gan.GAN`
does), minimising reconstruction loss plus the KL divergence to a standard
normal prior.  After training the decoder alone is a generator: feed it
vectors drawn from ``N(0, I)`` (:func:`sample`).

Encoder and decoder are stored separately in :mod:`visionbook.store`, so a
chapter can load just the part it needs; :class:`Sampling` is registered with
Keras so the stored encoder loads with ``safe_mode=True``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from visionbook import checks, data, store

#: The book's Fashion-MNIST VAE, sized by measurement on a shared 2-core CPU.
#: The transposed convolutions of the decoder dominate each step: with the
#: common widths (32, 64) an epoch took about 24 s, with (16, 32) about 14 s,
#: and for the same ~90 s of training 5 epochs at (16, 32) reached a slightly
#: lower test loss (247.4) than 3 epochs at (32, 64) (248.0). A 16-number
#: latent vector is enough for recognisable clothes.
FASHION_VAE: dict[str, Any] = {
    "latent_dim": 16,
    "filters": (16, 32),
    "dense_units": 128,
}


def _check_positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="visionbook")
class Sampling(layers.Layer):
    """Draw ``z = mean + exp(log_var / 2) * epsilon`` with ``epsilon ~ N(0, I)``.

    This is the reparameterization trick: the randomness sits in ``epsilon``,
    which does not depend on the weights, so gradients flow through ``mean``
    and ``log_var`` to the encoder. A :class:`keras.random.SeedGenerator`
    makes the draws reproducible for a given ``seed``.
    """

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: Sequence[Any]) -> Any:
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape: Sequence[Any]) -> Any:
        return input_shape[0]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


def create_encoder(
    latent_dim: int = FASHION_VAE["latent_dim"],
    filters: Sequence[int] = FASHION_VAE["filters"],
    dense_units: int = FASHION_VAE["dense_units"],
    seed: int | None = None,
    name: str = "encoder",
) -> keras.Model:
    """Image ``(28, 28, 1)`` in [0, 1] -> ``[z_mean, z_log_var, z]``.

    Two strided convolutions halve the image twice (28 -> 14 -> 7), a dense
    layer condenses the features, and two dense heads give the mean and the
    log-variance of the Gaussian the image is encoded as. The log-variance,
    not the variance, is predicted so that any real number is valid.
    """
    latent_dim = _check_positive_int(latent_dim, "latent_dim")
    dense_units = _check_positive_int(dense_units, "dense_units")
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or len(filters) != 2:
        raise ValueError(f"filters needs two entries (14x14 and 7x7 channels), got {filters!r}.")
    image = keras.Input(shape=(28, 28, 1), name="image")
    x = image
    for width in filters:
        x = layers.Conv2D(_check_positive_int(width, "filters"), 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, activation="relu")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    z = Sampling(seed=seed, name="z")([z_mean, z_log_var])
    return keras.Model(image, [z_mean, z_log_var, z], name=name)


def create_decoder(
    latent_dim: int = FASHION_VAE["latent_dim"],
    filters: Sequence[int] = FASHION_VAE["filters"],
    name: str = "decoder",
) -> keras.Model:
    """Latent vector ``(latent_dim,)`` -> image ``(28, 28, 1)`` in [0, 1].

    The encoder in reverse: a dense layer makes a 7x7 grid, two transposed
    convolutions with stride 2 enlarge it to 14x14 and 28x28, and a last
    transposed convolution with a sigmoid gives one probability per pixel.
    """
    latent_dim = _check_positive_int(latent_dim, "latent_dim")
    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or len(filters) != 2:
        raise ValueError(f"filters needs two entries (14x14 and 7x7 channels), got {filters!r}.")
    widths = [_check_positive_int(width, "filters") for width in filters]
    latent = keras.Input(shape=(latent_dim,), name="latent")
    x = layers.Dense(7 * 7 * widths[1], activation="relu")(latent)
    x = layers.Reshape((7, 7, widths[1]))(x)
    x = layers.Conv2DTranspose(widths[1], 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Conv2DTranspose(widths[0], 3, strides=2, padding="same", activation="relu")(x)
    image = layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(latent, image, name=name)


def reconstruction_loss(images: Any, reconstructions: Any) -> Any:
    """Binary cross-entropy summed over the pixels of each image: shape ``(n,)``.

    Summing (not averaging) keeps it on the same per-image scale as the KL
    term; averaging over 784 pixels would let the KL term dominate and blur
    the images further.
    """
    images = _as_real(images, "images")
    reconstructions = _as_real(reconstructions, "reconstructions")
    _check_same_image_shapes(images, reconstructions)
    per_pixel = keras.losses.binary_crossentropy(images, reconstructions)  # (n, 28, 28)
    return ops.sum(per_pixel, axis=(1, 2))


def _as_real(x: Any, argument: str) -> Any:
    """Tensors pass unchanged (inside training); arrays and lists become float32 after a check."""
    if isinstance(x, (np.ndarray, list, tuple, int, float, np.number)):
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{argument} could not be read as one numeric array ({err}).") from err
        if array.dtype.kind not in "buif":
            raise TypeError(f"{argument} must hold real numbers, got dtype {array.dtype}.")
        with np.errstate(over="ignore"):  # beyond float32's range: inf, as TensorFlow would compute
            return array.astype("float32")
    return x


def _static_shape(x: Any) -> tuple[int | None, ...]:
    """The shape known without running anything: None for a dimension set only at run time."""
    shape = getattr(x, "shape", None)
    if shape is None:
        shape = np.shape(x)
    return tuple(None if d is None else int(d) for d in shape)


def _shapes_agree(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Equal shapes, where a dimension not known yet (inside a traced function) matches anything."""
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _check_same_image_shapes(images: Any, reconstructions: Any) -> None:
    shape_a, shape_b = _static_shape(images), _static_shape(reconstructions)
    if len(shape_a) != 4 or not _shapes_agree(shape_a, shape_b):
        raise ValueError(
            f"images and reconstructions must both have shape (n, height, width, channels), "
            f"got {shape_a} and {shape_b}."
        )


def kl_divergence(z_mean: Any, z_log_var: Any) -> Any:
    """KL divergence of ``N(z_mean, exp(z_log_var))`` from ``N(0, I)``: shape ``(n,)``."""
    z_mean, z_log_var = _as_real(z_mean, "z_mean"), _as_real(z_log_var, "z_log_var")
    mean_shape, log_var_shape = _static_shape(z_mean), _static_shape(z_log_var)
    if len(mean_shape) != 2 or len(log_var_shape) != 2 or not _shapes_agree(mean_shape, log_var_shape):
        raise ValueError(
            f"z_mean and z_log_var must both have shape (n, latent_dim), got {mean_shape} and {log_var_shape}."
        )
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=1)


class VAE(keras.Model):
    """An encoder and a decoder trained together as a variational autoencoder.

    ``fit`` takes images in [0, 1] (no labels). The loss per image is the
    reconstruction loss plus the KL term; both are tracked separately so the
    history shows how the model trades one against the other.
    """

    def __init__(self, encoder: keras.Model, decoder: keras.Model, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, images: Any, training: bool = False) -> Any:
        _, _, z = self.encoder(images, training=training)
        return self.decoder(z, training=training)

    def _vae_losses(self, images: Any, training: bool) -> tuple[Any, Any, Any]:
        z_mean, z_log_var, z = self.encoder(images, training=training)
        reconstructions = self.decoder(z, training=training)
        reconstruction = ops.mean(reconstruction_loss(images, reconstructions))
        kl = ops.mean(kl_divergence(z_mean, z_log_var))
        return reconstruction + kl, reconstruction, kl

    def _record(self, total: Any, reconstruction: Any, kl: Any) -> dict[str, Any]:
        self.loss_tracker.update_state(total)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_loss_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, images: Any) -> dict[str, Any]:
        import tensorflow as tf  # train_step differs per backend; this is the TensorFlow one

        if isinstance(images, tuple):
            images = images[0]
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self._vae_losses(images, training=True)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._record(total, reconstruction, kl)

    def test_step(self, images: Any) -> dict[str, Any]:
        if isinstance(images, tuple):
            images = images[0]
        return self._record(*self._vae_losses(images, training=False))


def create_vae(seed: int | None = None, **overrides: Any) -> VAE:
    """The book's VAE (:data:`FASHION_VAE`, with ``overrides``), not yet compiled."""
    unknown = sorted(set(overrides) - set(FASHION_VAE))
    if unknown:
        raise TypeError(f"create_vae got unknown settings {unknown}; it accepts {sorted(FASHION_VAE)}.")
    config = {**FASHION_VAE, **overrides}
    encoder = create_encoder(**config, seed=seed)
    decoder = create_decoder(config["latent_dim"], config["filters"])
    return VAE(encoder, decoder, name="vae")


def train_fashion_vae(
    epochs: int = 5,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 42,
    verbose: int | str = 2,
    callbacks: Sequence[keras.callbacks.Callback] = (),
) -> tuple[VAE, dict[str, Any]]:
    """Train :func:`create_vae` on all 60,000 Fashion-MNIST training images.

    Returns the model and a record with the per-epoch history (loss,
    reconstruction_loss, kl_loss), the training seconds and the losses on
    the 10,000 test images, which are used only for that final evaluation.
    """
    epochs = _check_positive_int(epochs, "epochs")
    batch_size = _check_positive_int(batch_size, "batch_size")
    checks.check_number(learning_rate, "learning_rate", low=0.0, low_open=True)
    seed = checks.check_seed(seed)
    keras.utils.set_random_seed(seed)
    (x_train, _), (x_test, _) = data.fashion_mnist_for_training()
    vae = create_vae(seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(learning_rate))
    start = time.perf_counter()
    history = vae.fit(x_train, batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=list(callbacks))
    seconds = time.perf_counter() - start
    test = vae.evaluate(x_test, batch_size=1000, verbose=0, return_dict=True)
    record = {
        "history": {k: [float(v) for v in vs] for k, vs in history.history.items()},
        "train_seconds": seconds,
        "test_losses": {k: float(v) for k, v in test.items()},
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
    }
    return vae, record


#: How the book's Fashion-MNIST VAE is trained (the model store's key).
FASHION_VAE_TRAINING: dict[str, Any] = {
    "model": FASHION_VAE,
    "epochs": 5,
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
    settings = {k: v for k, v in FASHION_VAE_TRAINING.items() if k != "model"}
    start = time.perf_counter()
    vae, record = train_fashion_vae(**settings, verbose=verbose)
    record = {"wall_seconds": time.perf_counter() - start, **record}  # as store.load_or_train keeps it
    store.save(vae.encoder, ENCODER_NAME, FASHION_VAE_TRAINING, record)
    store.save(vae.decoder, DECODER_NAME, FASHION_VAE_TRAINING, record)
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
    count = _check_positive_int(count, "count")
    seed = checks.check_seed(seed)
    std = checks.check_number(std, "std", low=0.0, low_open=True)
    latents = np.random.default_rng(seed).standard_normal((count, latent_dim)) * std
    return decode(decoder, latents.astype("float32"))


def interpolate(encoder: keras.Model, decoder: keras.Model, start: object, end: object, steps: int = 8) -> np.ndarray:
    """Images decoded along the straight line between two images' mean latent vectors."""
    _check_pair(encoder, decoder)
    steps = _check_positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both ends), got {steps}.")
    z_mean, _ = encode(
        encoder, np.concatenate([data.as_batch(start, argument="start"), data.as_batch(end, argument="end")])
    )
    if len(z_mean) != 2:
        raise ValueError(f"start and end must be one image each, got {len(z_mean)} images.")
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return decode(decoder, (1.0 - weights) * z_mean[0] + weights * z_mean[1])
