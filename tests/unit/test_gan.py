"""visionbook.gan and visionbook.sample: shapes, one training step, clear errors."""

import inspect
import subprocess
import sys

import keras
import numpy as np
import pytest

from visionbook import architecture, gan, sample


SMALL = {**gan.FASHION_GAN, "generator_widths": (8, 4, 2), "discriminator_widths": (4, 8)}


def test_generator_reaches_28x28_in_tanh_range():
    generator = gan.create_generator()
    assert generator.input_shape == (None, 100)
    assert generator.output_shape == (None, 28, 28, 1)
    images = generator(np.random.default_rng(0).standard_normal((4, 100)).astype("float32"))
    assert np.all(np.abs(np.asarray(images)) <= 1.0)
    assert gan.create_generator(channels=3).output_shape == (None, 28, 28, 3)
    plain = gan.create_generator(widths=(8, 4), channels=3)  # the second transposed convolution makes the image
    assert plain.output_shape == (None, 28, 28, 3)
    assert isinstance(plain.get_layer("image"), keras.layers.Conv2DTranspose)


def test_default_networks_are_the_trained_ones():
    """create_generator() and create_discriminator() with their defaults are the networks chapter 7 trains."""
    model = gan.build_fashion_gan()
    architecture.assert_same_architecture(gan.create_generator(), model.generator)
    architecture.assert_same_architecture(gan.create_discriminator(), model.discriminator)
    # Dense 100 -> 7x7x64 (no bias) and its BatchNormalization (4 numbers a unit), transposed
    # convolutions 64 -> 32 -> 8 (4x4, no bias) with theirs, and a 3x3 output convolution 8 -> 1.
    generator = 100 * 7 * 7 * 64 + 4 * 7 * 7 * 64 + 4 * 4 * 64 * 32 + 4 * 32 + 4 * 4 * 32 * 8 + 4 * 8 + 9 * 8 + 1
    assert model.generator.count_params() == generator == 363_241
    # Conv 1 -> 32 (4x4), the spread channel, Conv 33 -> 64 (4x4), Dense 7x7x64 -> 1.
    assert model.discriminator.count_params() == 16 * 32 + 32 + 16 * 33 * 64 + 64 + 7 * 7 * 64 + 1 == 37_537


def test_networks_use_stock_keras_layers_only():
    allowed = {"InputLayer", "Dense", "BatchNormalization", "LeakyReLU", "Reshape", "Conv2DTranspose", "Conv2D",
               "Flatten", "MinibatchStdDev"}
    model = gan.build_fashion_gan()
    for network in (model.generator, model.discriminator):
        kinds = {type(layer).__name__ for layer in network.layers}
        assert kinds <= allowed, kinds - allowed
        for layer in network.layers:
            if type(layer).__name__ != "MinibatchStdDev":
                assert type(layer).__module__.startswith("keras."), type(layer)


def test_minibatch_std_appends_the_batch_spread():
    x = np.random.default_rng(0).normal(size=(8, 14, 14, 5)).astype("float32")
    appended = np.asarray(gan.MinibatchStdDev()(x))
    assert appended.shape == (8, 14, 14, 6)
    np.testing.assert_array_equal(appended[..., :5], x)
    np.testing.assert_allclose(appended[..., 5], x.std(axis=0).mean(), rtol=1e-4)
    same = np.repeat(x[:1], 4, axis=0)  # a batch of copies does not vary
    np.testing.assert_allclose(np.asarray(gan.MinibatchStdDev()(same))[..., 5], 0.0, atol=1e-3)


def test_discriminator_with_minibatch_std_saves_and_loads(tmp_path):
    discriminator = gan.create_discriminator(widths=(4, 8))
    path = tmp_path / "d.keras"
    discriminator.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(1).uniform(-1, 1, (6, 28, 28, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(discriminator(x)), atol=1e-6)


def test_saved_generator_loads_without_visionbook(tmp_path):
    """Plain keras.models.load_model, in a Python that never imported visionbook, gives the same images."""
    generator = gan.create_generator()
    path = tmp_path / "generator.keras"
    generator.save(path)
    noise = np.random.default_rng(2).standard_normal((3, 100)).astype("float32")
    np.save(tmp_path / "noise.npy", noise)
    np.save(tmp_path / "expected.npy", np.asarray(generator(noise)))
    script = (
        "import os, sys; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'\n"
        "import keras, numpy as np\n"
        f"folder = {str(tmp_path)!r}\n"
        "model = keras.models.load_model(os.path.join(folder, 'generator.keras'))\n"
        "images = np.asarray(model(np.load(os.path.join(folder, 'noise.npy'))))\n"
        "np.testing.assert_allclose(images, np.load(os.path.join(folder, 'expected.npy')), atol=1e-6)\n"
        "assert not any(name.startswith('visionbook') for name in sys.modules), 'visionbook was imported'\n"
        "print('loaded', model.output_shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loaded (None, 28, 28, 1)" in result.stdout


def weights(network):
    return [w.numpy().copy() for w in network.trainable_weights]


def changed(before, network):
    return any(not np.array_equal(a, w.numpy()) for a, w in zip(before, network.trainable_weights))


def test_one_train_step_updates_both_networks():
    model = gan.build_fashion_gan(SMALL)
    before_g, before_d = weights(model.generator), weights(model.discriminator)
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    logs = model.fit(real, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert set(logs) == {"d_loss", "g_loss", "real_score", "fake_score"}
    assert all(np.isfinite(v[0]) for v in logs.values())
    assert changed(before_g, model.generator) and changed(before_d, model.discriminator)


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
def test_each_optimizer_updates_only_its_own_network(frozen):
    """With one network's optimizer at learning rate 0, a step changes only the other network's weights."""
    model = gan.build_fashion_gan(SMALL)
    rates = {"generator": 1e-2, "discriminator": 1e-2, frozen: 0.0}
    model.compile(
        d_optimizer=keras.optimizers.Adam(rates["discriminator"]), g_optimizer=keras.optimizers.Adam(rates["generator"])
    )
    before = {"generator": weights(model.generator), "discriminator": weights(model.discriminator)}
    real = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    model.fit(real, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for name in ("generator", "discriminator"):
        assert changed(before[name], getattr(model, name)) == (name != frozen), name


def test_train_step_uses_one_generated_batch_and_two_plain_tapes():
    """The step is the TensorFlow DCGAN tutorial's: no nested tapes, the generator runs once."""
    source = inspect.getsource(gan.GAN.train_step)
    assert "stop_recording" not in source
    assert source.count("GradientTape()") == 2 and source.count("generate_batch(") == 1


def test_learning_rate_holds_then_falls_linearly_to_zero():
    schedule = gan.HoldThenLinearDecay(2e-3, total_steps=100, decay_from=0.6)
    rates = [float(schedule(step)) for step in (0, 60, 80, 100, 120)]
    np.testing.assert_allclose(rates, [2e-3, 2e-3, 1e-3, 0.0, 0.0], atol=1e-9)
    assert float(gan.decay_factor(0.9, 0.6)) == pytest.approx(0.25)


def test_book_gan_decays_over_its_steps_and_stays_constant_without_them():
    small = SMALL
    scheduled = gan.build_fashion_gan(small, total_steps=50)
    for optimizer in (scheduled.g_optimizer, scheduled.d_optimizer):
        assert float(optimizer.learning_rate) == pytest.approx(small["learning_rate"])
        optimizer.iterations.assign(40)  # 80% through 50 steps, half-way down the decay from 60%
        assert float(optimizer.learning_rate) == pytest.approx(small["learning_rate"] / 2, rel=1e-5)
    constant = gan.build_fashion_gan(small)
    assert float(constant.g_optimizer.learning_rate) == pytest.approx(small["learning_rate"])


def test_book_gan_adam_has_no_momentum():
    # beta_1 = 0 (chapter 7): each step follows the current gradient, not an average of past ones.
    model = gan.build_fashion_gan(SMALL)
    assert gan.FASHION_GAN["beta_1"] == 0.0
    assert model.g_optimizer.beta_1 == model.d_optimizer.beta_1 == 0.0


@pytest.mark.parametrize("decay_from", [1.0, -0.1, "half"])
def test_bad_decay_from_is_explained(decay_from):
    with pytest.raises((ValueError, TypeError), match="decay_from"):
        gan.build_fashion_gan({**gan.FASHION_GAN, "decay_from": decay_from}, total_steps=10)


def test_sample_range_and_reproducibility():
    generator = gan.create_generator(widths=(8, 4, 2))
    a, b = gan.sample(generator, 5, seed=1), gan.sample(generator, 5, seed=1)
    assert a.shape == (5, 28, 28, 1) and 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("noise", [np.zeros((2, 50)), np.zeros((2, 3, 100)), np.full((1, 100), np.nan)])
def test_wrong_latent_vectors_are_explained(noise):
    with pytest.raises(ValueError, match="length 100|NaN|shape"):
        gan.generate(gan.create_generator(widths=(8, 4, 2)), noise)


@pytest.mark.parametrize("kwargs", [{"latent_dim": 0}, {"channels": -1}, {"widths": (8,)}, {"widths": (8, 4, 2, 1)}])
def test_bad_generator_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        gan.create_generator(**kwargs)


@pytest.mark.parametrize("kwargs", [{"widths": (8, 4, 2)}, {"minibatch_std": "yes"}, {"channels": 0}])
def test_bad_discriminator_arguments(kwargs):
    with pytest.raises((ValueError, TypeError), match=next(iter(kwargs))):
        gan.create_discriminator(**kwargs)


@pytest.mark.parametrize("change", [{"fused_batch_norm": True}, {"widths": (8, 4)}])
def test_unknown_config_keys_are_refused(change):
    with pytest.raises(ValueError, match="unknown keys"):
        gan.build_fashion_gan({**gan.FASHION_GAN, **change})


def test_missing_config_keys_are_named():
    config = {k: v for k, v in gan.FASHION_GAN.items() if k != "beta_1"}
    with pytest.raises(ValueError, match="beta_1"):
        gan.build_fashion_gan(config)


def test_sampling_cli(tmp_path, capsys):
    generator = gan.create_generator(widths=(8, 4, 2))
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


def test_chapter_7_writes_the_package_gan():
    """The GAN class chapter 7 writes is gan.GAN, method for method (the package adds only its checks)."""
    import ast
    import json
    from pathlib import Path

    notebook = Path(__file__).resolve().parents[2] / "book" / "07_adversarial_training.ipynb"
    cells = ["".join(c["source"]) for c in json.loads(notebook.read_text())["cells"] if c["cell_type"] == "code"]
    chapter_source = next(c for c in cells if c.startswith("class GAN(keras.Model):"))

    def methods(source):
        (cls,) = [n for n in ast.parse(source).body if isinstance(n, ast.ClassDef)]
        found = {}
        for node in cls.body:
            if isinstance(node, ast.FunctionDef):
                body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
                found[node.name] = [ast.dump(s) for s in body]
        return found

    chapter, package = methods(chapter_source), methods(inspect.getsource(gan.GAN))
    assert set(package) - set(chapter) == {"check_players"}
    for name in ("compile", "metrics", "generate_batch", "train_step"):
        assert chapter[name] == package[name], f"GAN.{name} differs between chapter 7 and the package"
    assert chapter["__init__"] == package["__init__"][2:], "the package's __init__ adds only its two checks"
