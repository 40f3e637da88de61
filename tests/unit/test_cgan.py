"""visionbook.cgan: shapes, one conditional training step, label checks, the small labelled set."""

import keras
import numpy as np
import pytest

from visionbook import cgan

TINY = {**cgan.FASHION_CGAN, "generator_widths": (8, 4), "discriminator_widths": (4, 8), "embedding_dim": 4}


@pytest.fixture(scope="module")
def tiny():
    return cgan.build_conditional_gan(TINY)


def test_networks_take_a_label(tiny):
    assert tiny.generator.input_shape == [(None, 100), (None,)]
    assert tiny.generator.output_shape == (None, 28, 28, 1)
    assert tiny.discriminator.input_shape == [(None, 28, 28, 1), (None,)]
    assert tiny.discriminator.output_shape == (None, 1)


def test_book_configuration_sizes():
    model = cgan.build_conditional_gan()
    assert model.generator.count_params() == 409_889
    assert model.discriminator.count_params() == 67_873


def test_projection_score_depends_on_the_label():
    discriminator = cgan.create_conditional_discriminator(widths=(4, 8))
    image = np.random.default_rng(0).uniform(-1, 1, (1, 28, 28, 1)).astype("float32")
    scores = [float(np.asarray(discriminator([image, np.array([k])]))[0, 0]) for k in range(10)]
    assert np.std(scores) > 0, "the class vector must change the score"


def test_conditional_gan_reuses_the_gan_training_step():
    """One training step for both GANs: the conditional one changes only how a generated batch is made."""
    from visionbook import gan

    assert "train_step" not in vars(cgan.ConditionalGAN)
    assert cgan.ConditionalGAN.train_step is gan.GAN.train_step
    assert set(vars(cgan.ConditionalGAN)) & {"train_step", "compile", "metrics"} == set()


def test_one_train_step_updates_both_networks(tiny):
    before_g = [w.numpy().copy() for w in tiny.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in tiny.discriminator.trainable_weights]
    images = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    logs = tiny.fit(images, np.arange(16) % 10, batch_size=16, epochs=1, verbose=0, shuffle=False).history
    assert set(logs) == {"d_loss", "g_loss", "real_score", "fake_score"}
    assert all(np.isfinite(v[0]) for v in logs.values())
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before_g, tiny.generator.trainable_weights))
    assert any(not np.array_equal(a, w.numpy()) for a, w in zip(before_d, tiny.discriminator.trainable_weights))


def test_fit_without_labels_is_explained(tiny):
    images = np.zeros((8, 28, 28, 1), "float32")
    with pytest.raises(ValueError, match="images, labels"):
        tiny.fit(images, epochs=1, batch_size=8, verbose=0)


def test_generate_by_index_and_name(tiny):
    images = cgan.generate(tiny.generator, [7, "Sneaker", "bag"], seed=1)
    assert images.shape == (3, 28, 28, 1) and 0.0 <= images.min() and images.max() <= 1.0
    np.testing.assert_array_equal(images[0], images[0])
    np.testing.assert_allclose(images, cgan.generate(tiny.generator, [7, 7, 8], seed=1), atol=1e-6)
    many, labels = cgan.sample_classes(tiny.generator, 2, seed=0)
    assert many.shape == (20, 28, 28, 1) and labels.tolist() == sorted(list(range(10)) * 2)
    _, labels = cgan.sample_classes(tiny.generator, 3, classes="Coat")
    assert labels.tolist() == [4, 4, 4]


@pytest.mark.parametrize(
    "labels, error, match",
    [
        (10, ValueError, "unknown class 10"),
        ([1, -1], ValueError, "unknown class -1"),
        ("Sock", ValueError, "unknown class 'Sock'"),
        (np.eye(10, dtype=int)[:3], ValueError, "one-hot"),
        (np.zeros((2, 2, 2), int), ValueError, "vector of class indices"),
        (np.array([0.0, 1.0]), TypeError, "integer"),
        ([], ValueError, "empty"),
        (True, TypeError, "integer index or a class name"),
    ],
)
def test_bad_labels_are_explained(tiny, labels, error, match):
    with pytest.raises(error, match=match):
        cgan.generate(tiny.generator, labels)


def test_wrong_noise_is_explained(tiny):
    with pytest.raises(ValueError, match="length 100"):
        cgan.generate(tiny.generator, [1, 2], noise=np.zeros((2, 50)))
    with pytest.raises(ValueError, match="2 noise vectors for 3 labels"):
        cgan.generate(tiny.generator, [1, 2, 3], noise=np.zeros((2, 100)))


def test_unconditional_generator_is_refused():
    from visionbook import gan

    with pytest.raises(TypeError, match="not \\(noise, label\\)"):
        cgan.generate(gan.create_generator(widths=(8, 4, 2)), [1])


def test_labelled_dataset_checks_pairs():
    images = np.zeros((10, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="pair up"):
        cgan.labelled_dataset(images, np.zeros(9, int), batch_size=4)
    with pytest.raises(ValueError, match="smaller batch_size"):
        cgan.labelled_dataset(images, np.zeros(10, int), batch_size=16)
    images_out, labels_out = next(iter(cgan.labelled_dataset(images, np.arange(10), batch_size=4)))
    assert images_out.shape == (4, 28, 28, 1) and float(np.min(images_out)) == -1.0
    assert labels_out.dtype == "int32"


def test_labelled_subset_is_balanced_and_reproducible():
    images, labels = cgan.labelled_subset(3, seed=5)
    assert images.shape == (30, 28, 28)
    assert np.bincount(labels).tolist() == [3] * 10
    again, _ = cgan.labelled_subset(3, seed=5)
    np.testing.assert_array_equal(images, again)


def test_class_match_counts_hits():
    inputs = keras.Input((28, 28, 1))
    judge = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs)))
    images = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    predicted = np.argmax(judge.predict(images, verbose=0), axis=1)
    result = cgan.class_match(judge, images, predicted)
    assert result["overall"] == 1.0
    wrong = cgan.class_match(judge, images, (predicted + 1) % 10)
    assert wrong["overall"] == 0.0 and wrong["per_class"].shape == (10,)


def test_class_spread_sees_copies():
    rng = np.random.default_rng(0)
    varied = rng.random((6, 28, 28)).astype("float32")
    copies = np.repeat(varied[:1], 6, axis=0)
    labels = np.array([0, 0, 0, 1, 1, 1])
    spread = cgan.class_spread(np.concatenate([varied, copies]), np.concatenate([labels, labels]))
    assert spread.shape == (10,) and np.isnan(spread[2:]).all()
    one = cgan.class_spread(copies, labels)
    np.testing.assert_allclose(one[:2], 0.0, atol=1e-6)
    assert spread[0] > 0 and cgan.class_spread(varied, labels)[0] > spread[0] * 0.9
    a, b = varied[0].ravel(), varied[1].ravel()
    np.testing.assert_allclose(cgan.class_spread(varied[:2], [3, 3])[3], np.linalg.norm(a - b), rtol=1e-6)
