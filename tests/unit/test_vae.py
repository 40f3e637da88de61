"""visionbook.vae: shapes, the reparameterization layer, one training step, storage, input checks."""

import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from visionbook import store, vae


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def small_vae():
    keras.utils.set_random_seed(0)
    return vae.create_vae(seed=0)


def _images(count=8, seed=0):
    return np.random.default_rng(seed).random((count, 28, 28, 1), dtype=np.float32)


def test_encoder_shapes_and_size():
    encoder = vae.create_encoder()
    assert encoder.input_shape == (None, 28, 28, 1)
    assert [tuple(s) for s in encoder.output_shape] == [(None, 16)] * 3
    # conv 3x3x1x16+16, conv 3x3x16x32+32, dense 7*7*32*128+128, two heads 128*16+16
    assert encoder.count_params() == 160 + 4_640 + 200_832 + 2 * 2_064 == 209_760


def test_decoder_shapes_and_size():
    decoder = vae.create_decoder()
    assert decoder.input_shape == (None, 16)
    assert decoder.output_shape == (None, 28, 28, 1)
    # dense 16*1568+1568, convT 4x4x32x32+32, convT 4x4x32x16+16, conv 3x3x16x1+1
    assert decoder.count_params() == 26_656 + 16_416 + 8_208 + 145 == 51_425
    kernels = [layer.kernel_size for layer in decoder.layers if hasattr(layer, "kernel_size")]
    assert kernels == [(4, 4), (4, 4), (3, 3)], "kernel 4 with stride 2 overlaps evenly"
    out = np.asarray(decoder(np.zeros((2, 16), np.float32)))
    assert out.min() >= 0.0 and out.max() <= 1.0, "a sigmoid output lies in [0, 1]"


def test_latent_size_is_an_argument():
    assert vae.create_encoder(latent_dim=2).output_shape[0] == (None, 2)
    assert vae.create_decoder(latent_dim=2).input_shape == (None, 2)
    with pytest.raises(ValueError, match="latent_dim"):
        vae.create_encoder(latent_dim=0)


def test_sampling_is_reproducible_given_its_seed():
    mean = np.arange(12, dtype=np.float32).reshape(3, 4)
    log_var = np.zeros((3, 4), np.float32)
    first = np.asarray(vae.Sampling(seed=7)([mean, log_var]))
    again = np.asarray(vae.Sampling(seed=7)([mean, log_var]))
    other = np.asarray(vae.Sampling(seed=8)([mean, log_var]))
    np.testing.assert_allclose(first, again)
    assert not np.allclose(first, other)
    # A tiny variance leaves only the mean: the noise is scaled by exp(log_var / 2).
    exact = np.asarray(vae.Sampling(seed=7)([mean, np.full((3, 4), -60.0, np.float32)]))
    np.testing.assert_allclose(exact, mean, atol=1e-6)


def test_loss_terms_match_their_formulas():
    zeros = np.zeros((2, 16), np.float32)
    np.testing.assert_allclose(vae.kl_divergence(zeros, zeros), [0.0, 0.0], atol=1e-6)
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension.
    np.testing.assert_allclose(vae.kl_divergence(zeros + 1.0, zeros), [8.0, 8.0], rtol=1e-6)
    images = np.zeros((2, 28, 28, 1), np.float32)
    half = np.full((2, 28, 28, 1), 0.5, np.float32)
    np.testing.assert_allclose(vae.reconstruction_loss(images, half), [784 * np.log(2.0)] * 2, rtol=1e-4)


def _one_step(model, batch):
    """The losses of one ``fit`` step on ``batch`` (the way chapter 8 trains)."""
    history = model.fit(batch, batch_size=len(batch), epochs=1, verbose=0, shuffle=False)
    return {k: v[-1] for k, v in history.history.items()}


def test_training_steps_return_the_three_losses_and_lower_the_loss(small_vae):
    small_vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    batch = _images(8)
    first = _one_step(small_vae, batch)
    assert set(first) == {"loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(v) for v in first.values())
    np.testing.assert_allclose(first["loss"], first["reconstruction_loss"] + first["kl_loss"], rtol=1e-5)
    for _ in range(15):
        last = _one_step(small_vae, batch)
    assert last["loss"] < first["loss"], (first, last)
    held_out = small_vae.evaluate(_images(8, seed=1), verbose=0, return_dict=True)
    assert set(held_out) == set(first) and all(np.isfinite(v) for v in held_out.values())


def test_beta_weighs_the_kl_term():
    keras.utils.set_random_seed(0)
    model = vae.create_vae(seed=0, beta=0.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    step = _one_step(model, _images(8))
    assert step["kl_loss"] > 0
    np.testing.assert_allclose(step["loss"], step["reconstruction_loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="beta"):
        vae.create_vae(beta=-1.0)
    with pytest.raises((TypeError, ValueError), match="bogus"):
        vae.create_vae(bogus=1)


def test_decoder_kernel_is_an_argument():
    decoder = vae.create_decoder(decoder_kernel=3)
    assert decoder.output_shape == (None, 28, 28, 1)
    assert decoder.count_params() == 26_656 + 9_248 + 4_624 + 145
    with pytest.raises(ValueError, match="decoder_kernel"):
        vae.create_decoder(decoder_kernel=0)


def test_validation_training_holds_out_training_images_and_spares_the_test_set(monkeypatch):
    test_images = _images(4, seed=9)
    train_images = _images(24, seed=8)
    monkeypatch.setattr(vae, "VALIDATION_IMAGES", 8)
    monkeypatch.setattr(
        vae.data, "fashion_mnist_for_training",
        lambda: ((train_images, np.zeros(24)), (test_images, np.zeros(4))),
    )
    seen = []
    monkeypatch.setattr(vae.VAE, "evaluate", lambda self, x, **kw: seen.append(x) or {"loss": 1.0})
    model, record = vae.train_fashion_vae(
        epochs=1, batch_size=8, verbose=0, validation=True, model={"latent_dim": 2}
    )
    assert "validation_losses" in record and "test_losses" not in record
    np.testing.assert_array_equal(seen[0], train_images[-8:])
    assert record["model"]["latent_dim"] == 2 and model.decoder.input_shape == (None, 2)


def test_store_round_trip_with_safe_mode(models):
    keras.utils.set_random_seed(1)
    model = vae.create_vae(seed=1)
    config = {"test": "round trip"}
    store.save(model.encoder, "enc", config, {})
    store.save(model.decoder, "dec", config, {})
    encoder, _ = store.load("enc", config)  # store.load uses safe_mode=True
    decoder, _ = store.load("dec", config)
    assert isinstance(encoder.get_layer("z"), vae.Sampling)
    batch = _images(4)
    np.testing.assert_allclose(encoder(batch)[0], model.encoder(batch)[0], atol=1e-5)
    latents = np.ones((3, 16), np.float32)
    np.testing.assert_allclose(decoder(latents), model.decoder(latents), atol=1e-5)


def test_stored_decoder_loads_with_plain_keras(models):
    """The decoder holds only stock layers: keras.models.load_model reads it without visionbook."""
    keras.utils.set_random_seed(2)
    decoder = vae.create_decoder()
    config = {"test": "plain keras"}
    store.save(decoder, "dec", config, {})
    path = store.model_paths("dec", config)[0]
    latents = np.linspace(-2, 2, 32, dtype=np.float32).reshape(2, 16)
    expected = np.asarray(decoder(latents))
    script = (
        "import sys, numpy as np, keras\n"
        f"model = keras.models.load_model({str(path)!r})\n"
        "assert not any(name.startswith('visionbook') for name in sys.modules), 'visionbook imported'\n"
        "latents = np.linspace(-2, 2, 32, dtype=np.float32).reshape(2, 16)\n"
        "np.save(sys.argv[1], np.asarray(model(latents)))\n"
    )
    out = models / "decoded.npy"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script, str(out)], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(out), expected, atol=1e-6)


def test_trained_fashion_vae_trains_once_then_loads(models, monkeypatch):
    calls = []

    def fake_training(**settings):
        calls.append(settings)
        return vae.create_vae(seed=0), {"history": {"loss": [1.0]}, "train_seconds": 0.0}

    monkeypatch.setattr(vae, "train_fashion_vae", fake_training)
    _, _, first = vae.trained_fashion_vae()
    assert first["loaded_from_store"] is False and first["wall_seconds"] > 0
    encoder, decoder, record = vae.trained_fashion_vae()
    assert record["loaded_from_store"] is True and len(calls) == 1
    assert record["wall_seconds"] == first["wall_seconds"]
    assert calls[0]["epochs"] == vae.FASHION_VAE_TRAINING["epochs"]
    assert vae.sample(decoder, 3, seed=0).shape == (3, 28, 28, 1)
    assert vae.encode(encoder, _images(2))[0].shape == (2, 16)


def test_sample_decode_and_interpolate(small_vae):
    images = vae.sample(small_vae.decoder, 5, seed=3)
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_allclose(images, vae.sample(small_vae.decoder, 5, seed=3))
    path = vae.interpolate(small_vae.encoder, small_vae.decoder, _images(1, 1)[0], _images(1, 2)[0], steps=6)
    assert path.shape == (6, 28, 28, 1)
    np.testing.assert_allclose(path[0], vae.reconstruct(small_vae.encoder, small_vae.decoder, _images(1, 1))[0], atol=1e-5)
    errors = vae.reconstruction_errors(small_vae.encoder, small_vae.decoder, np.zeros((3, 28, 28), np.uint8))
    assert errors.shape == (3,) and np.all(errors >= 0)


def test_wrong_latent_vectors_are_explained(small_vae):
    with pytest.raises(ValueError, match="length 16"):
        vae.decode(small_vae.decoder, np.zeros((2, 100)))
    with pytest.raises(ValueError, match="NaN"):
        vae.decode(small_vae.decoder, np.full((2, 16), np.nan))
    with pytest.raises(ValueError, match="count"):
        vae.sample(small_vae.decoder, 0)
    with pytest.raises(ValueError, match="std"):
        vae.sample(small_vae.decoder, 2, std=-1.0)


def test_wrong_images_are_explained(small_vae):
    with pytest.raises(ValueError, match="divide by 255"):
        vae.encode(small_vae.encoder, np.full((2, 28, 28), 200.0))
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        vae.encode(small_vae.encoder, np.zeros((2, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="grayscale"):
        vae.reconstruct(small_vae.encoder, small_vae.decoder, np.zeros((2, 28, 28, 3), np.uint8))
    with pytest.raises(ValueError, match="one image each"):
        vae.interpolate(small_vae.encoder, small_vae.decoder, _images(2), _images(1))


def test_training_batches_shuffle_every_epoch_repeat_across_runs_and_skip_the_tuner():
    images = np.random.default_rng(0).random((100, 28, 28, 1), dtype=np.float32)
    keys = images[:, 0, 0, 0]  # one pixel tells the images apart

    def two_epochs():
        dataset = vae.training_batches(images, 32, seed=7)
        return [np.concatenate([batch[:, 0, 0, 0] for batch in dataset.as_numpy_iterator()]) for _ in range(2)]

    first, second = two_epochs()
    assert sorted(first.tolist()) == sorted(keys.tolist()), "an epoch is a permutation of all images"
    assert not np.array_equal(first, second), "a new order every epoch"
    assert all(np.array_equal(a, b) for a, b in zip(two_epochs(), (first, second))), "the same orders each run"
    batches = list(vae.training_batches(images, 32, seed=7).as_numpy_iterator())
    assert [b.shape for b in batches] == [(32, 28, 28, 1)] * 3 + [(4, 28, 28, 1)], "images alone, no labels"
    assert vae.training_batches(images, 32, seed=7).options().autotune.enabled is False
    with pytest.raises(ValueError, match="batch_size"):
        vae.training_batches(images, 0, seed=7)
