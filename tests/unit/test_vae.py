"""visionbook.vae: shapes, the reparameterization layer, one training step, storage, input checks."""

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
    # dense 16*1568+1568, convT 3x3x32x32+32, convT 3x3x32x16+16, convT 3x3x16x1+1
    assert decoder.count_params() == 26_656 + 9_248 + 4_624 + 145 == 40_673
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


def test_training_steps_return_the_three_losses_and_lower_the_loss(small_vae):
    small_vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    batch = _images(8)
    first = small_vae.train_on_batch(batch, return_dict=True)
    assert set(first) == {"loss", "reconstruction_loss", "kl_loss"}
    assert all(np.isfinite(v) for v in first.values())
    np.testing.assert_allclose(first["loss"], first["reconstruction_loss"] + first["kl_loss"], rtol=1e-5)
    small_vae.reset_metrics()
    for _ in range(15):
        small_vae.reset_metrics()
        last = small_vae.train_on_batch(batch, return_dict=True)
    assert last["loss"] < first["loss"], (first, last)


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
