"""Generative adversarial networks for 28x28 images, in Keras 3.

The source article's generator and discriminator, repaired: they return
models (not tensors), the generator's shape arithmetic really reaches 28x28
(7 -> 14 -> 28), and the channel count is an argument (1 for Fashion-MNIST).
:class:`GAN` trains both networks in its own ``train_step`` with one
optimizer each, the working Keras 3 replacement for the article's
``discriminator.trainable = False`` recipe.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from visionbook import checks, data, plots, store

LATENT_DIM = 100


def _check_positive_int(value: object, name: str) -> int:
    return checks.check_positive_int(value, name)


def create_generator(
    latent_dim: int = LATENT_DIM,
    channels: int = 1,
    widths: Sequence[int] = (128, 64),
    kernel_size: int = 4,
    name: str = "generator",
    upsampling: str = "transposed",
    full_resolution_width: int = 0,
    fused_batch_norm: bool = False,
    depthwise_image_conv: bool = False,
) -> keras.Model:
    """Noise ``(latent_dim,)`` -> image ``(28, 28, channels)`` in [-1, 1].

    A dense layer makes a 7x7 grid with ``widths[0]`` channels; two
    upsampling steps double it to 14x14 and 28x28. BatchNormalization keeps
    the signal in a trainable range, and ``tanh`` bounds the output.

    ``upsampling="transposed"`` doubles the size with transposed (fractionally
    strided) convolutions of stride 2. ``"resize"`` first repeats each pixel
    (nearest-neighbour upsampling) and then applies an ordinary convolution:
    every output pixel then gets the same number of kernel contributions, so
    the checkerboard pattern of uneven overlaps cannot appear.

    ``full_resolution_width`` (0: off) makes the second upsampling produce
    that many feature maps at 28x28 instead of the image itself; a 3x3
    convolution then turns them into the image. Each pixel is then drawn from
    a neighbourhood of full-resolution features rather than straight from the
    14x14 grid.

    ``fused_batch_norm=True`` uses :class:`FusedBatchNormalization`: the same
    layer, trained with TensorFlow's one-pass kernel (faster on a CPU).
    ``depthwise_image_conv=True`` computes the full-resolution stage's last
    convolution (one output map per image channel) with
    :class:`SingleMapConv2D`: the same layer and weights, a faster kernel.
    """
    latent_dim = _check_positive_int(latent_dim, "latent_dim")
    full_resolution_width = checks.check_positive_int(full_resolution_width, "full_resolution_width", minimum=0)
    channels = _check_positive_int(channels, "channels")
    if len(widths) != 2:
        raise ValueError(f"widths needs two entries (7x7 and 14x14 channels), got {widths!r}.")
    if upsampling not in ("transposed", "resize"):
        raise ValueError(f"upsampling must be 'transposed' or 'resize', got {upsampling!r}.")
    if not isinstance(fused_batch_norm, bool):
        raise TypeError(f"fused_batch_norm must be True or False, got {fused_batch_norm!r}.")
    if not isinstance(depthwise_image_conv, bool):
        raise TypeError(f"depthwise_image_conv must be True or False, got {depthwise_image_conv!r}.")
    normalization = FusedBatchNormalization if fused_batch_norm else layers.BatchNormalization

    def up(x: Any, filters: int, **kwargs: Any) -> Any:
        if upsampling == "transposed":
            return layers.Conv2DTranspose(filters, kernel_size, strides=2, padding="same", **kwargs)(x)
        x = layers.UpSampling2D(2, interpolation="nearest")(x)
        return layers.Conv2D(filters, kernel_size, padding="same", **kwargs)(x)

    noise = keras.Input(shape=(latent_dim,), name="noise")
    x = layers.Dense(7 * 7 * widths[0], use_bias=False)(noise)
    x = normalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((7, 7, widths[0]))(x)
    x = up(x, widths[1], use_bias=False)
    x = normalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    if not full_resolution_width:
        image = up(x, channels, activation="tanh", name="image")
        return keras.Model(noise, image, name=name)
    x = up(x, full_resolution_width, use_bias=False)
    x = normalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    image_conv = SingleMapConv2D if depthwise_image_conv else layers.Conv2D
    image = image_conv(channels, 3, padding="same", activation="tanh", name="image")(x)
    return keras.Model(noise, image, name=name)


@keras.saving.register_keras_serializable(package="visionbook")
class FusedBatchNormalization(layers.BatchNormalization):
    """Keras's ``BatchNormalization``, trained with TensorFlow's fused kernel.

    On the TensorFlow backend, Keras 3 normalizes a training batch with
    separate operations (a mean, a variance, then scale and shift), each one
    a pass over the feature maps, and as many again for the gradients.
    TensorFlow's fused kernel (``FusedBatchNormV3``, run by oneDNN on x86
    CPUs) does the same arithmetic in one pass forward and one backward.
    Same weights, same moving averages, outputs and gradients equal up to
    float32 rounding (tested). At inference, and for what it does not cover
    (input not float32 or channels not last, a mask, ``renorm``,
    ``synchronized`` across devices), it is Keras's own layer.
    """

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        import tensorflow as tf  # the fused kernel is TensorFlow's

        rank = len(inputs.shape)
        covered = (
            training and self.trainable and mask is None and self.center and self.scale
            and not self.renorm and not self.synchronized
            and self.axis % rank == rank - 1 and inputs.dtype == tf.float32
        )
        if not covered:
            return super().call(inputs, training=training, mask=mask)
        # The kernel wants four dimensions: (batch, height, width, channels).
        x = inputs if rank == 4 else tf.reshape(inputs, (-1, 1, 1, inputs.shape[-1]))
        empty = tf.constant([], dtype=x.dtype)  # no running statistics in: the batch's own are used
        y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
            x=x, scale=self.gamma, offset=self.beta, mean=empty, variance=empty,
            epsilon=self.epsilon, data_format="NHWC", is_training=True,
        )
        # The kernel returns the batch variance with Bessel's correction
        # (n - 1); Keras averages the plain one (n) into its moving variance.
        count = tf.cast(tf.size(x) // tf.shape(x)[-1], variance.dtype)
        variance = variance * (count - 1.0) / count
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return y if rank == 4 else tf.reshape(y, tf.shape(inputs))


@keras.saving.register_keras_serializable(package="visionbook")
class SingleMapConv2D(layers.Conv2D):
    """Keras's ``Conv2D``; with a single filter, computed as a depthwise convolution and a sum.

    A convolution with one output map adds, at each pixel, one small
    weighted patch per input channel. A depthwise convolution computes each
    channel's patch sum as a map of its own (same weights, one per channel),
    and a sum over the channels adds them up: the same arithmetic, in
    another order. TensorFlow's CPU kernels run the plain form slowly for
    one output map: for the generator's 3x3 output layer (16 maps in) the
    forward and weight-gradient kernels ran at about 11 GFLOP/s, against
    100-200 for the other convolutions of the GAN's step
    (``benchmarks/train_step_efficiency.py``); forward and backward, the
    plain layer took 2.4 times as long as this form on an AVX-512 CPU and
    1.7 times with oneDNN held to AVX2 (a trial). Outputs and gradients equal the
    plain layer's up to float32 rounding (tested). With several filters,
    dilation, unequal strides or channels first, it is Keras's own layer.
    """

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        import tensorflow as tf  # the depthwise kernel is TensorFlow's

        covered = (
            self.filters == 1 and self.groups == 1 and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1) and self.strides[0] == self.strides[1]
        )
        if not covered:
            return super().convolution_op(inputs, kernel)
        # kernel: (height, width, input channels, 1), also a depthwise kernel's shape
        maps = tf.nn.depthwise_conv2d(inputs, kernel, [1, *self.strides, 1], self.padding.upper())
        return ops.sum(maps, axis=-1, keepdims=True)


def batch_spread(features: Any) -> Any:
    """One number: the mean over positions and channels of the features' standard deviation across the batch."""
    return ops.mean(ops.sqrt(ops.var(features, axis=0) + 1e-8))


@keras.saving.register_keras_serializable(package="visionbook")
class MinibatchStdDev(layers.Layer):
    """Append one feature map holding how much the batch's features vary.

    The discriminator judges a batch of real images and a batch of generated
    ones separately. If the generator collapses onto a few outputs, its batch
    varies less than a real one; this extra channel (:func:`batch_spread`
    repeated at every position) lets the discriminator see that and push the
    generator towards variety. It has no weights.
    """

    def call(self, x: Any) -> Any:
        return ops.concatenate([x, ops.ones_like(x[..., :1]) * batch_spread(x)], axis=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (*input_shape[:-1], input_shape[-1] + 1)


@keras.saving.register_keras_serializable(package="visionbook")
class MinibatchStdConv2D(layers.Layer):
    """``Conv2D(filters, strides=2)`` applied to ``MinibatchStdDev()(x)``, computed cheaply.

    The appended channel holds the same number (the batch's spread) at every
    position, so its share of the convolution is that number times the
    convolution of an all-ones map: one small pattern, the same for every
    image. Computing that pattern once per step, instead of copying an extra
    channel into every image, gives the same output with less memory
    traffic (on a 2-core CPU about half the cost the extra channel added to a
    GAN step). Weights: the convolution's kernel and bias for the features,
    plus ``spread_kernel`` for the spread channel.
    """

    def __init__(self, filters: int, kernel_size: int = 4, strides: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = _check_positive_int(filters, "filters")
        self.kernel_size = _check_positive_int(kernel_size, "kernel_size")
        self.strides = _check_positive_int(strides, "strides")
        self.conv = layers.Conv2D(self.filters, self.kernel_size, strides=self.strides, padding="same", name="conv")

    def build(self, input_shape: tuple) -> None:
        self.conv.build(input_shape)
        # Glorot-uniform limit of the kernel this layer stands for (one channel more).
        area = self.kernel_size * self.kernel_size
        limit = (6.0 / ((input_shape[-1] + 1) * area + self.filters * area)) ** 0.5
        self.spread_kernel = self.add_weight(
            name="spread_kernel",
            shape=(self.kernel_size, self.kernel_size, 1, self.filters),
            initializer=keras.initializers.RandomUniform(-limit, limit),
        )

    def call(self, x: Any) -> Any:
        ones = ops.ones((1, x.shape[1], x.shape[2], 1), dtype=x.dtype)
        pattern = ops.conv(ones, self.spread_kernel, strides=self.strides, padding="same")
        return self.conv(x) + batch_spread(x) * pattern

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self.conv.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides}


def create_discriminator(
    channels: int = 1,
    widths: Sequence[int] = (64, 128),
    kernel_size: int = 4,
    dropout: float = 0.3,
    name: str = "discriminator",
    minibatch_std: bool = False,
) -> keras.Model:
    """Image ``(28, 28, channels)`` in [-1, 1] -> one logit: real (>0) or fake.

    Two strided convolutions (28 -> 14 -> 7) and a dense output. It returns
    a logit rather than a sigmoid probability; the loss applies the sigmoid
    in a numerically stable way. ``minibatch_std`` gives the last convolution
    a :class:`MinibatchStdDev` channel (as :class:`MinibatchStdConv2D`).
    """
    channels = _check_positive_int(channels, "channels")
    image = keras.Input(shape=(28, 28, channels), name="image")
    x = image
    for index, width in enumerate(widths):
        if minibatch_std and index == len(widths) - 1:
            x = MinibatchStdConv2D(width, kernel_size, name="minibatch_std_conv")(x)
        else:
            x = layers.Conv2D(width, kernel_size, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    x = layers.Flatten()(x)
    logit = layers.Dense(1, name="logit")(x)
    return keras.Model(image, logit, name=name)


class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    ``fit`` takes real images in [-1, 1]. Each step the discriminator learns
    to score real images high and generated ones low, then the generator
    learns to make the discriminator score its images high. Each network has
    its own optimizer and only its own weights change in its half of the step.
    Both halves use the same generated batch, so the generator runs once per
    step (as in PyTorch's DCGAN example); against a fresh batch for the
    second half this gave the same Frechet distance per epoch on
    Fashion-MNIST and about a fifth more images per second.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int | None = None,
        seed: int = 42,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim or generator.input_shape[-1])
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.real_score_tracker = keras.metrics.Mean(name="real_score")
        self.fake_score_tracker = keras.metrics.Mean(name="fake_score")

    def compile(
        self,
        d_optimizer: keras.optimizers.Optimizer | None = None,
        g_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        super().compile(**kwargs)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.d_loss_tracker, self.g_loss_tracker, self.real_score_tracker, self.fake_score_tracker]

    def call(self, noise: Any, training: bool = False) -> Any:
        return self.generator(noise, training=training)

    def train_step(self, real_images: Any) -> dict[str, Any]:
        import tensorflow as tf  # train_step differs per backend; this is the TensorFlow one

        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = ops.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)

        # One batch of generated images serves both halves of the step: the
        # generator runs once, under a tape that pauses while the
        # discriminator learns (saving a whole generator pass per step).
        with tf.GradientTape() as g_tape:
            fake_images = self.generator(noise, training=True)

            # 1. Discriminator: real -> 1, generated -> 0.
            with g_tape.stop_recording():
                with tf.GradientTape() as tape:
                    real_logits = self.discriminator(real_images, training=True)
                    fake_logits = self.discriminator(fake_images, training=True)
                    d_loss = self.loss_fn(ops.ones_like(real_logits), real_logits) + self.loss_fn(
                        ops.zeros_like(fake_logits), fake_logits
                    )
                grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
                self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

            # 2. Generator: make the updated discriminator answer 1 for the same images.
            g_logits = self.discriminator(fake_images, training=True)
            g_loss = self.loss_fn(ops.ones_like(g_logits), g_logits)
        grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        return self.record_step(d_loss, g_loss, real_logits, fake_logits)

    def record_step(self, d_loss: Any, g_loss: Any, real_logits: Any, fake_logits: Any) -> dict[str, Any]:
        """Update the loss and score trackers; return what ``fit`` prints."""
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.real_score_tracker.update_state(ops.mean(ops.sigmoid(real_logits)))
        self.fake_score_tracker.update_state(ops.mean(ops.sigmoid(fake_logits)))
        return {m.name: m.result() for m in self.metrics}


def sample(generator: keras.Model, count: int, seed: int = 0, batch_size: int = 1000) -> np.ndarray:
    """``count`` generated images as float32 in [0, 1], shape ``(count, 28, 28, c)``."""
    latent_dim = checks.latent_input_size(generator, "generator")
    count = checks.check_positive_int(count, "count")
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
        self.count = checks.check_positive_int(count, "count")
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
    import tensorflow as tf

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


def check_decay_from(decay_from: object) -> float:
    """``decay_from`` as a float in [0, 1), or a clear error."""
    return checks.check_number(decay_from, "decay_from", low=0.0, high=1.0, high_open=True)


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
        self.decay_from = check_decay_from(decay_from)

    def __call__(self, step: Any) -> Any:
        progress = ops.cast(step, "float32") / self.total_steps
        return self.learning_rate * decay_factor(progress, self.decay_from)

    def get_config(self) -> dict[str, Any]:
        return {"learning_rate": self.learning_rate, "total_steps": self.total_steps, "decay_from": self.decay_from}


#: The book's Fashion-MNIST GAN: architecture and training (the model store's key).
#: Chosen by measurement on a 2-core CPU (Frechet distance on the judge CNN's
#: features, same seed).  Learning rate after 2 epochs: 2e-4 (the
#: classic DCGAN value) 86, 1e-3 54, 2e-3 50.  Small networks get more updates
#: per second (up to a point: see the generator width below).  A minibatch-spread channel in
#: the discriminator, after 1/3/6 epochs (5,000 samples): without 80/45/32,
#: with 59/29/23; as :class:`MinibatchStdConv2D` computes it, it costs about
#: 5-10% of the images per second (appended as a real channel: about 20%).
#: ``fused_batch_norm``: the generator's BatchNormalization trained with
#: TensorFlow's one-pass kernel (:class:`FusedBatchNormalization`): the GAN
#: step 1,577 against 1,458 images/s (train_step_efficiency.py, matmul 191),
#: the chapter's 6 epochs 225 s against 248 s and Frechet distance 19.6
#: against 20.1 (the same arithmetic, rounded differently: another run).
#: Tried and not adopted: the channel at the input or before the dense layer
#: (cheaper, but worse per second), a linear learning-rate decay over the second
#: half (21.5 after 9 epochs, no clear gain), resize-convolution upsampling
#: (after 3/5 epochs: 29/26; a third more arithmetic per image), an average
#: of the generator's weights (EMA 0.99: no clear gain).  Those figures came
#: from the 7-epoch judge of an earlier edition.  With today's judge, trained
#: by seconds as benchmarks/gan_variants.py does (240 s, 2,000 samples; the
#: plain configuration scored 27.7): a full-resolution stage of 16 maps and a
#: 3x3 output convolution 20.6 (adopted, though it trains about a fifth fewer
#: images per second); a wider generator (128, 64) 26.9; a
#: generator-weight EMA of 0.999 26.8; Adam beta_2 0.99 26.7; a discriminator
#: learning rate of 4e-3 28.8; batches of 256 at 3e-3 27.6; a linear decay over
#: the last 40% 25.7; the spread in groups of 4 (as in progressive GANs) 31.1.
#: With the full-resolution stage, 300 s, no weight average: constant learning
#: rates 19.1; both rates held for 60% of the budget and then lowered linearly
#: to zero 17.8 (from 40%: 18.3; at 3e-3 from 60%: 21.4).  In the chapter's
#: 6 epochs (5,000 samples) the same decay over the last 40% of the steps gave
#: 24.7 against 27.6 without: adopted as ``decay_from`` (:class:`HoldThenLinearDecay`).
#: Adam's beta_1 of 0 instead of 0.5 (no momentum): the chapter's 6 epochs
#: 20.1 against 24.7; the side-by-side benchmark at 300 s 18.4 (669,184 images)
#: against 20.8 (633,728 images) an hour earlier; gan_variants.py at 300 s 17.9
#: (751,616 images). Not adopted: discriminators of (16, 32) maps 20.1 (922,880
#: images) and (32, 32) 20.0 (794,496 images), both at beta_1 0.5.
#: With beta_1 0, a generator of (128, 64) maps instead of (64, 32) wins per
#: second: in races of 300 s each (turns of 10 s) 12.9 after 594,432 images
#: against 18.1 after 809,856, and 14.9 (491,520) against 19.0 (660,352) in a
#: second run; with a (64, 128) discriminator as well 28.0 (381,312 images),
#: with a (256, 128) generator 20.3 (268,544 images). In the chapter's 6
#: epochs 17.6 against 20.1, its steps taking 1.1 to 1.4 times as long.
#: Adopted for a day, then measured on an AVX2 CPU (AMD EPYC without
#: AVX-512, matmul about 60 GFLOP/s, like most laptops): there its steps took
#: 1.7 to 3.4 times as long as (64, 32)'s (156-311 against 519-525 images/s),
#: so the chapter's 6 epochs would cost 20 to 40 minutes instead of 12.
#: Back to (64, 32): a book that must run on such CPUs keeps the generator
#: that is fast on all of them. Chapter 12's fake-image detector keeps the 8
#: epochs it was given against the wider generator (4 gave 81.8% against
#: (64, 32) on the AVX-512 CPU).
#: ``depthwise_image_conv``: the generator's one-map output convolution as a
#: depthwise convolution and a sum (:class:`SingleMapConv2D`): the GAN step
#: 2,632 against 2,236 images/s in one run of train_step_efficiency.py and
#: 2,351 against 2,180 in the next (matmul 217-219, AVX-512 CPU without
#: AMX); the race of gan_vs_dcgan_tutorial.py 15.7 after 718,336 images;
#: the chapter's 6 epochs 149.5 s against 162.6 s (run_notebooks.py).
FASHION_GAN: dict[str, Any] = {
    "latent_dim": LATENT_DIM,
    "generator_widths": (64, 32),
    "generator_full_resolution_width": 16,
    "fused_batch_norm": True,
    "depthwise_image_conv": True,
    "discriminator_widths": (32, 64),
    "discriminator_dropout": 0.0,
    "minibatch_std": True,
    "learning_rate": 2e-3,
    "beta_1": 0.0,
    "batch_size": 128,
    "epochs": 6,
    "decay_from": 0.6,
    "seed": 42,
}


def build_fashion_gan(config: dict[str, Any] = FASHION_GAN, total_steps: int | None = None) -> GAN:
    """A compiled :class:`GAN` configured by ``config`` (see :data:`FASHION_GAN`).

    With ``total_steps`` and a ``decay_from`` in ``config``, both learning
    rates follow :class:`HoldThenLinearDecay` over that many steps. Without
    ``total_steps`` they stay constant (the optimizers' ``learning_rate`` can
    then be set by hand, as ``benchmarks/gan_vs_dcgan_tutorial.py`` does when
    it trains by seconds).
    """
    optional = {"minibatch_std", "generator_full_resolution_width", "decay_from", "fused_batch_norm", "depthwise_image_conv"}
    required = {k for k in FASHION_GAN if k not in optional}
    missing = sorted(required - set(config)) if isinstance(config, dict) else None
    if missing is None:
        raise TypeError(f"config must be a dict like gan.FASHION_GAN, got {type(config).__name__}.")
    if missing:
        raise ValueError(f"config lacks {missing}; start from {{**gan.FASHION_GAN, ...}} and override what you change.")
    model = GAN(
        create_generator(
            config["latent_dim"],
            widths=config["generator_widths"],
            full_resolution_width=config.get("generator_full_resolution_width", 0),
            fused_batch_norm=config.get("fused_batch_norm", False),
            depthwise_image_conv=config.get("depthwise_image_conv", False),
        ),
        create_discriminator(
            widths=config["discriminator_widths"],
            dropout=config["discriminator_dropout"],
            minibatch_std=config.get("minibatch_std", False),
        ),
        seed=config["seed"],
    )
    learning_rate: Any = config["learning_rate"]
    if config.get("decay_from") is not None:
        decay_from = check_decay_from(config["decay_from"])
        if total_steps is not None:
            learning_rate = HoldThenLinearDecay(learning_rate, total_steps, decay_from)
    model.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=config["beta_1"]),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=config["beta_1"]),
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
    return store.load_or_train(
        "fashion_gan_generator", FASHION_GAN, lambda: train_fashion_gan(FASHION_GAN, verbose=verbose)
    )
