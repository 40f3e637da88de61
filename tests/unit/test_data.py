"""visionbook.data: Fashion-MNIST loading and the range/shape conversions."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from visionbook import data


@pytest.fixture(scope="module")
def fashion():
    return data.load_fashion_mnist(download=False)


def test_fashion_mnist_matches_keras_layout(fashion):
    (x_train, y_train), (x_test, y_test) = fashion
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert len(data.FASHION_MNIST_CLASSES) == 10


def _copy_dataset(tmp_path: Path) -> Path:
    source = data.first_complete_folder(data.fashion_mnist_search_path())
    assert source is not None, "Fashion-MNIST must be installed for the tests"
    for name in data.FASHION_MNIST_SHA256:
        shutil.copy(source / name, tmp_path / name)
    return tmp_path


def test_explicit_folder_is_used(tmp_path):
    folder = _copy_dataset(tmp_path)
    (x_train, _), _ = data.load_fashion_mnist(folder, download=False)
    assert x_train.shape == (60000, 28, 28)


def test_corrupt_file_is_reported_and_left_in_place(tmp_path, monkeypatch):
    folder = _copy_dataset(tmp_path)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    labels = bytearray(gzip.decompress(target.read_bytes()))
    labels[100] = (labels[100] + 1) % 10  # one wrong label: same size, other hash
    target.write_bytes(gzip.compress(bytes(labels)))
    before = target.read_bytes()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no Keras cache there
    with pytest.raises(data.DatasetError, match="SHA-256.*left in place"):
        data.load_fashion_mnist(folder, download=False)
    assert target.read_bytes() == before


def test_truncated_file_is_reported(tmp_path):
    folder = _copy_dataset(tmp_path)
    target = folder / "train-images-idx3-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(data.DatasetError, match="train-images"):
        data.load_fashion_mnist(folder, download=False)
    assert target.exists()


def test_missing_dataset_names_every_way_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "nothing")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    with pytest.raises(data.DatasetError) as err:
        data.load_fashion_mnist(download=False)
    message = str(err.value)
    for hint in ("apt-get install dataset-fashion-mnist", "keras.datasets", data.DATA_DIR_ENV):
        assert hint in message


def test_to_unit_range_accepts_uint8_and_unit_floats():
    out = data.to_unit_range(np.array([[0, 255]], dtype=np.uint8))
    np.testing.assert_allclose(out, [[0.0, 1.0]])
    assert out.dtype == np.float32
    np.testing.assert_allclose(data.to_unit_range(np.array([0.25, 0.5])), [0.25, 0.5])


@pytest.mark.parametrize("dtype", [np.uint8, np.int64])
def test_every_8_bit_value_scales_exactly_as_in_float64(dtype):
    """The in-place float32 division gives, bit for bit, float32(v / 255) computed in float64."""
    values = np.arange(256).astype(dtype)
    np.testing.assert_array_equal(data.to_unit_range(values), (values / 255.0).astype(np.float32))
    np.testing.assert_array_equal(data.to_tanh_range(values), (values / 255.0).astype(np.float32) * 2.0 - 1.0)


def test_scaling_leaves_the_callers_array_alone():
    images = np.random.default_rng(0).random((2, 28, 28), dtype=np.float32)
    before = images.copy()
    for scale in (data.to_unit_range, data.to_tanh_range, data.as_batch):
        out = scale(images)
        assert not np.shares_memory(out, images), scale.__name__
    np.testing.assert_array_equal(images, before)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([0.0, 200.0]), "divide by 255"),
        (np.array([-1.0, 1.0]), "tanh"),
        (np.array([0.0, np.nan]), "NaN"),
        (np.array([], dtype=np.float32), "empty"),
        (np.array([0, 300]), "outside 0..255"),
    ],
)
def test_to_unit_range_rejects_wrong_ranges(bad, message):
    with pytest.raises(ValueError, match=message):
        data.to_unit_range(bad)


def test_to_unit_range_rejects_non_numeric():
    with pytest.raises(TypeError, match="numeric"):
        data.to_unit_range(np.array(["a", "b"]))


def test_tanh_round_trip():
    x = np.linspace(0, 1, 11, dtype=np.float32)
    np.testing.assert_allclose(data.from_tanh_range(data.to_tanh_range(x)), x, atol=1e-6)
    with pytest.raises(ValueError, match="tanh"):
        data.from_tanh_range(np.array([0.0, 2.0]))


def test_as_batch_shapes():
    assert data.as_batch(np.zeros((28, 28), np.uint8)).shape == (1, 28, 28, 1)
    assert data.as_batch(np.zeros((5, 28, 28), np.uint8)).shape == (5, 28, 28, 1)
    assert data.as_batch(np.zeros((5, 28, 28, 1), np.float32)).shape == (5, 28, 28, 1)
    assert data.as_batch(np.zeros((8, 8, 3)), (8, 8), 3).shape == (1, 8, 8, 3)


def test_as_batch_explains_wrong_size_and_channels():
    with pytest.raises(ValueError, match=r"\(28, 28\).*Resize"):
        data.as_batch(np.zeros((5, 32, 32), np.uint8))
    with pytest.raises(ValueError, match="grayscale"):
        data.as_batch(np.zeros((5, 28, 28, 3), np.uint8))


def test_bundled_photos_load_offline():
    for name in ("camera", "chelsea", "china"):
        photo = data.load_photo(name)
        assert photo.dtype == np.uint8 and photo.ndim in (2, 3)
    with pytest.raises(ValueError, match="Choose one of"):
        data.load_photo("imagenet")


def test_digits():
    images, labels = data.load_digits_images()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert 0.0 <= images.min() and images.max() <= 1.0


def test_without_autotuning_keeps_the_order_and_switches_the_tuner_off():
    import tensorflow as tf

    def pipeline():
        return tf.data.Dataset.range(50).shuffle(50, seed=7, reshuffle_each_iteration=True).batch(8).prefetch(2)

    tuned, untuned = pipeline(), data.without_autotuning(pipeline())
    assert untuned.options().autotune.enabled is False
    assert tuned.options().autotune.enabled is not False  # the default leaves tuning on
    for _ in range(2):  # two epochs: reshuffled the same way with and without the tuner
        tuned_epoch = [b.numpy().tolist() for b in tuned]
        untuned_epoch = [b.numpy().tolist() for b in untuned]
        assert tuned_epoch == untuned_epoch
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        data.without_autotuning(np.zeros(3))


def test_a_named_folder_is_used_or_refused_never_replaced(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(data, "_download_with_keras", lambda: pytest.fail("a named folder was replaced"))
    with pytest.raises(FileNotFoundError, match=r"data_dir: .*fasion does not exist.*No other copy was used"):
        data.load_fashion_mnist(tmp_path / "fasion")
    partial = _copy_dataset(tmp_path)
    (partial / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(data.DatasetNotFoundError, match="lacks train-labels-idx1-ubyte.gz"):
        data.load_fashion_mnist(partial)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "typo"))
    with pytest.raises(FileNotFoundError, match=data.DATA_DIR_ENV):
        data.load_fashion_mnist()
    assert data.fashion_mnist_search_path() == [tmp_path / "typo"]


def test_dataset_errors_are_file_errors_and_value_errors():
    assert issubclass(data.DatasetError, OSError) and issubclass(data.DatasetError, ValueError)
    assert issubclass(data.DatasetNotFoundError, FileNotFoundError)


@pytest.mark.parametrize(
    "shape, channels, fix",
    [((2, 1, 28, 28), 1, r"np\.moveaxis\(x, 1, -1\)"), ((2, 3, 28, 28), 3, r"np\.moveaxis\(x, 1, -1\)"),
     ((3, 28, 28), 3, r"np\.moveaxis\(x, 0, -1\)"), ((28, 28, 3), 1, "one colour image.*grayscale"),
     ((2, 784), 1, r"reshape"), ((2, 28, 28, 1), 3, r"np\.repeat"), ((2, 32, 32), 1, "Resize")],
)
def test_as_batch_names_the_right_fix(shape, channels, fix):
    with pytest.raises(ValueError, match=fix):
        data.as_batch(np.zeros(shape, np.uint8), channels=channels)
