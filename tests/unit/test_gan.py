"""visionbook.gan and visionbook.sample: shapes, one training step, clear errors."""

import keras
import numpy as np
import pytest

from visionbook import gan, sample


def test_generator_reaches_28x28_in_tanh_range():
    generator = gan.create_generator()
    assert generator.input_shape == (None, 100)
    assert generator.output_shape == (None, 28, 28, 1)
    assert generator.count_params() == 784_641
    images = generator(np.random.default_rng(0).standard_normal((4, 100)).astype("float32"))
    assert np.all(np.abs(np.asarray(images)) <= 1.0)
    assert gan.create_generator(channels=3).output_shape == (None, 28, 28, 3)
    assert gan.create_generator(channels=3, full_resolution_width=8).output_shape == (None, 28, 28, 3)
    with pytest.raises(ValueError, match="full_resolution_width"):
        gan.create_generator(full_resolution_width=-1)


def test_book_configuration_sizes():
    model = gan.build_fashion_gan()
    # Dense 100 -> 7x7x64 (no bias) and its BatchNormalization (4 numbers a
    # unit), a 4x4 transposed convolution 64 -> 32 and its BatchNormalization:
    trunk = 100 * 7 * 7 * 64 + 4 * 7 * 7 * 64 + 4 * 4 * 64 * 32 + 4 * 32
    # then the full-resolution stage: a transposed convolution 32 -> 16 with its
    # BatchNormalization, and a 3x3 output convolution 16 -> 1 with a bias.
    assert model.generator.count_params() == trunk + 4 * 4 * 32 * 16 + 4 * 16 + 9 * 16 + 1 == 367_441
    assert model.generator.get_layer("image").kernel.shape == (3, 3, 16, 1)
    assert model.discriminator.count_params() == 37_537
    assert model.discriminator.output_shape == (None, 1)


def test_minibatch_std_conv_equals_conv_over_the_appended_channel():
    """The cheap layer computes exactly Conv2D(MinibatchStdDev()(x)), with the kernel split in two."""
    x = np.random.default_rng(0).normal(size=(8, 14, 14, 5)).astype("float32")
    fused = gan.MinibatchStdConv2D(6, kernel_size=4)
    result = np.asarray(fused(x))
    appended = np.asarray(gan.MinibatchStdDev()(x))
    assert appended.shape == (8, 14, 14, 6)
    np.testing.assert_allclose(appended[..., 5], float(gan.batch_spread(x)))
    reference = keras.layers.Conv2D(6, 4, strides=2, padding="same")
    reference.build(appended.shape)
    kernel = np.concatenate([fused.conv.kernel.numpy(), fused.spread_kernel.numpy()], axis=2)
    reference.set_weights([kernel, fused.conv.bias.numpy()])
    assert result.shape == (8, 7, 7, 6)
    np.testing.assert_allclose(result, np.asarray(reference(appended)), atol=1e-5)
    # a batch of identical images has no spread: only the convolution remains
    same = np.repeat(x[:1], 4, axis=0)
    np.testing.assert_allclose(np.asarray(fused(same)), np.asarray(fused.conv(same)), atol=1e-3)


@pytest.mark.parametrize("shape", [(16, 7, 7, 8), (16, 12)])
def test_fused_batch_normalization_matches_keras(shape):
    """Same outputs, gradients and moving averages as Keras's layer, up to float32 rounding."""
    import tensorflow as tf

    x = tf.constant(np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32"))
    layers = keras.layers.BatchNormalization(momentum=0.9), gan.FusedBatchNormalization(momentum=0.9)
    results = []
    for layer in layers:
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 1.5, shape[-1]).astype("float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * tf.sin(y))  # any loss whose gradient varies from element to element
        grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
        results.append([y, *grads, layer.moving_mean, layer.moving_variance])
    assert float(tf.math.reduce_std(results[0][0])) > 0.5  # the test data was normalized, not zeroed
    for keras_value, fused_value in zip(*results):
        np.testing.assert_allclose(np.asarray(fused_value), np.asarray(keras_value), rtol=1e-4, atol=1e-4)
    # at inference the fused layer is Keras's own: with the same weights, the same numbers
    layers[1].set_weights(layers[0].get_weights())
    np.testing.assert_array_equal(np.asarray(layers[1](x)), np.asarray(layers[0](x)))
    # batch renormalization is Keras's own code too, in training as well
    renorm = keras.layers.BatchNormalization(renorm=True), gan.FusedBatchNormalization(renorm=True)
    for layer in renorm:
        layer.build(shape)
    renorm[1].set_weights(renorm[0].get_weights())
    np.testing.assert_array_equal(np.asarray(renorm[1](x, training=True)), np.asarray(renorm[0](x, training=True)))


def test_book_generator_uses_the_fused_layer_and_saves_and_loads(tmp_path):
    model = gan.build_fashion_gan()
    kinds = [type(layer) for layer in model.generator.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert kinds == [gan.FusedBatchNormalization] * 3
    plain = gan.create_generator(widths=(8, 4))
    assert not any(isinstance(layer, gan.FusedBatchNormalization) for layer in plain.layers)
    generator = gan.create_generator(widths=(8, 4), full_resolution_width=4, fused_batch_norm=True)
    path = tmp_path / "g.keras"
    generator.save(path)
    loaded = keras.models.load_model(path)
    noise = np.random.default_rng(2).standard_normal((5, 100)).astype("float32")
    np.testing.assert_array_equal(np.asarray(loaded(noise)), np.asarray(generator(noise)))
    with pytest.raises(TypeError, match="fused_batch_norm"):
        gan.create_generator(fused_batch_norm="yes")


@pytest.mark.parametrize("strides, padding", [(1, "same"), (2, "same"), (1, "valid"), (2, "valid")])
def test_single_map_conv_matches_keras(strides, padding):
    """Same outputs and gradients as Keras's Conv2D with the same weights, up to float32 rounding."""
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 9, 9, 16)).astype("float32"))
    plain = keras.layers.Conv2D(1, 3, strides=strides, padding=padding, activation="tanh")
    fast = gan.SingleMapConv2D(1, 3, strides=strides, padding=padding, activation="tanh")
    plain.build(x.shape)
    fast.build(x.shape)
    fast.set_weights([w * 0.3 + 0.05 for w in plain.get_weights()])  # a nonzero bias too
    plain.set_weights(fast.get_weights())
    results = []
    for layer in (plain, fast):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y * tf.sin(3.0 * y))  # a gradient that varies from pixel to pixel
        results.append([y, *tape.gradient(loss, [x, *layer.trainable_weights])])
    assert float(tf.math.reduce_std(results[0][0])) > 0.1  # the outputs are not all the same
    for plain_value, fast_value in zip(*results):
        # sums of a few hundred float32 terms in another order: compare on each array's own scale
        # (over 30 seeds the largest difference was a fifth of this tolerance)
        plain_value, fast_value = np.asarray(plain_value), np.asarray(fast_value)
        assert plain_value.shape == fast_value.shape
        np.testing.assert_allclose(fast_value, plain_value, rtol=1e-4, atol=1e-4 * np.abs(plain_value).max())


def test_single_map_conv_is_keras_own_with_several_filters():
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 3)).astype("float32")
    plain, fast = keras.layers.Conv2D(4, 3), gan.SingleMapConv2D(4, 3)
    plain.build(x.shape)
    fast.build(x.shape)
    fast.set_weights(plain.get_weights())
    np.testing.assert_array_equal(np.asarray(fast(x)), np.asarray(plain(x)))


def test_book_generator_uses_the_single_map_conv_and_saves_and_loads(tmp_path):
    model = gan.build_fashion_gan()
    assert type(model.generator.get_layer("image")) is gan.SingleMapConv2D
    assert type(gan.create_generator(widths=(8, 4), full_resolution_width=4).get_layer("image")) is keras.layers.Conv2D
    generator = gan.create_generator(widths=(8, 4), full_resolution_width=4, depthwise_image_conv=True)
    path = tmp_path / "g.keras"
    generator.save(path)
    loaded = keras.models.load_model(path)
    assert type(loaded.get_layer("image")) is gan.SingleMapConv2D
    noise = np.random.default_rng(3).standard_normal((5, 100)).astype("float32")
    np.testing.assert_array_equal(np.asarray(loaded(noise)), np.asarray(generator(noise)))
    with pytest.raises(TypeError, match="depthwise_image_conv"):
        gan.create_generator(depthwise_image_conv=1)


def test_discriminator_with_minibatch_std_saves_and_loads(tmp_path):
    discriminator = gan.create_discriminator(widths=(4, 8), minibatch_std=True)
    path = tmp_path / "d.keras"
    discriminator.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(1).uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(discriminator(x)), atol=1e-6)


def test_one_train_step_updates_both_networks():
    model = gan.build_fashion_gan({**gan.FASHION_GAN, "generator_widths": (8, 4), "discriminator_widths": (4, 8)})
    before_g = [w.numpy().copy() for w in model.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    logs = model.train_on_batch(real, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss", "real_score", "fake_score"}
    assert all(np.isfinite(float(v)) for v in logs.values())
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before_g, model.generator.trainable_weights))
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before_d, model.discriminator.trainable_weights))


def test_learning_rate_holds_then_falls_linearly_to_zero():
    schedule = gan.HoldThenLinearDecay(2e-3, total_steps=100, decay_from=0.6)
    rates = [float(schedule(step)) for step in (0, 60, 80, 100, 120)]
    np.testing.assert_allclose(rates, [2e-3, 2e-3, 1e-3, 0.0, 0.0], atol=1e-9)
    assert float(gan.decay_factor(0.9, 0.6)) == pytest.approx(0.25)


def test_book_gan_decays_over_its_steps_and_stays_constant_without_them():
    small = {**gan.FASHION_GAN, "generator_widths": (8, 4), "discriminator_widths": (4, 8)}
    scheduled = gan.build_fashion_gan(small, total_steps=50)
    for optimizer in (scheduled.g_optimizer, scheduled.d_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(small["learning_rate"])
        optimizer.iterations.assign(40)  # 80% through 50 steps, half-way down the decay from 60%
        assert float(optimizer.learning_rate) == pytest.approx(small["learning_rate"] / 2, rel=1e-5)
    constant = gan.build_fashion_gan(small)
    assert float(constant.g_optimizer.learning_rate) == pytest.approx(small["learning_rate"])


def test_book_gan_adam_has_no_momentum():
    # beta_1 = 0 (chapter 7): each step follows the current gradient, not an average of past ones.
    model = gan.build_fashion_gan({**gan.FASHION_GAN, "generator_widths": (8, 4), "discriminator_widths": (4, 8)})
    assert gan.FASHION_GAN["beta_1"] == 0.0
    assert model.g_optimizer.beta_1 == model.d_optimizer.beta_1 == 0.0


@pytest.mark.parametrize("decay_from", [1.0, -0.1, "half"])
def test_bad_decay_from_is_explained(decay_from):
    with pytest.raises((ValueError, TypeError), match="decay_from"):
        gan.build_fashion_gan({**gan.FASHION_GAN, "decay_from": decay_from}, total_steps=10)


def test_sample_range_and_reproducibility():
    generator = gan.create_generator(widths=(8, 4))
    a, b = gan.sample(generator, 5, seed=1), gan.sample(generator, 5, seed=1)
    assert a.shape == (5, 28, 28, 1) and 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("noise", [np.zeros((2, 50)), np.zeros((2, 3, 100)), np.full((1, 100), np.nan)])
def test_wrong_latent_vectors_are_explained(noise):
    with pytest.raises(ValueError, match="length 100|NaN|shape"):
        gan.generate(gan.create_generator(widths=(8, 4)), noise)


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"channels": -1}, {"widths": (8,)}])
def test_bad_generator_arguments(kwargs):
    with pytest.raises(ValueError):
        gan.create_generator(**kwargs)


def test_sampling_cli(tmp_path, capsys):
    generator = gan.create_generator(widths=(8, 4))
    path = tmp_path / "gen.keras"
    generator.save(path)
    assert sample.main(["--generator", str(path), "--out", str(tmp_path / "grid.png"), "--count", "10"]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 0
    assert sample.main(["--generator", str(path), "--out", str(tmp_path / "x.npy"), "--count", "3"]) == 0
    images = np.load(tmp_path / "x.npy")
    assert images.shape == (3, 28, 28, 1)
    # An existing file is kept unless --force.
    assert sample.main(["--generator", str(path), "--out", str(tmp_path / "x.npy")]) == 2
    assert "exists" in capsys.readouterr().err
    assert np.load(tmp_path / "x.npy").shape == (3, 28, 28, 1)


def test_sampling_cli_rejects_missing_and_foreign_files(tmp_path, capsys):
    assert sample.main(["--generator", str(tmp_path / "none.keras"), "--out", str(tmp_path / "a.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    inputs = keras.Input((28, 28, 1))
    classifier = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(inputs)))
    classifier.save(tmp_path / "classifier.keras")
    assert sample.main(["--generator", str(tmp_path / "classifier.keras"), "--out", str(tmp_path / "a.png")]) == 2
    assert "not a generator" in capsys.readouterr().err
    (tmp_path / "junk.keras").write_bytes(b"junk")
    assert sample.main(["--generator", str(tmp_path / "junk.keras"), "--out", str(tmp_path / "a.png")]) == 2
    assert "could not be loaded" in capsys.readouterr().err


def test_switching_the_pipeline_tuner_off_leaves_training_unchanged():
    """The book's real-image pipeline trains the GAN to the same weights with tf.data's tuner on or off."""
    import tensorflow as tf

    images = np.random.default_rng(0).integers(0, 256, (512, 28, 28), dtype=np.uint8)
    tuner_on = tf.data.Options()
    tuner_on.autotune.enabled = True
    # Two separate pipelines: iterating one pipeline twice would continue its reshuffling.
    with_tuner = gan.real_images_dataset(images, 128, seed=5).with_options(tuner_on)
    without = gan.real_images_dataset(images, 128, seed=5)
    assert with_tuner.options().autotune.enabled is True and without.options().autotune.enabled is False

    def trained_weights(dataset):
        keras.utils.set_random_seed(5)
        model = gan.build_fashion_gan(gan.FASHION_GAN)
        model.fit(dataset, epochs=2, verbose=0, shuffle=False)  # the pipeline shuffles
        return model.generator.get_weights() + model.discriminator.get_weights()

    for tuned_weights, untuned_weights in zip(trained_weights(with_tuner), trained_weights(without)):
        np.testing.assert_array_equal(tuned_weights, untuned_weights)
