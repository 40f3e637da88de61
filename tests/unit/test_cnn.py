"""visionbook.cnn: the article's builder, repaired, and the Fashion-MNIST CNN."""

import keras
import numpy as np
import pytest

from visionbook import architecture, cnn, data


class StopAfterOneBatch(keras.callbacks.Callback):
    """Ends training after its first batch: enough to see what was built and recorded."""

    def on_train_batch_end(self, batch, logs=None):
        self.model.stop_training = True


def test_article_network_defaults():
    model = cnn.create_cnn_model()
    assert model.count_params() == 2_085_544
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)
    # The last block sees 224 / 2**4 = 14x14 feature maps with 512 channels.
    assert model.layers[-3].output.shape[1:] == (14, 14, 512)


def test_fashion_cnn_shape_and_size():
    model = cnn.create_fashion_cnn()
    assert model.input_shape == (None, 28, 28, 1)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 421_642


def test_batchnorm_momentum_is_configurable():
    model = cnn.create_cnn_model((8, 8, 1), 10, (16,), (1,), bn_momentum=0.5)
    norms = [layer for layer in model.layers if layer.__class__.__name__ == "BatchNormalization"]
    assert [layer.momentum for layer in norms] == [0.5]
    assert cnn.create_cnn_model((8, 8, 1), 10, (16,), (1,)).layers[2].momentum == cnn.BN_MOMENTUM


def test_conv_block_accepts_the_articles_uppercase_padding():
    inputs = keras.Input((8, 8, 1))
    assert cnn.conv_block(inputs, 4, (3, 3), padding="SAME").shape[1:] == (8, 8, 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_shape": (28, 28)}, "height, width, channels"),
        ({"input_shape": (28, 28, 0)}, "height, width, channels"),
        ({"num_classes": 1}, "num_classes"),
        ({"num_classes": 2.5}, "num_classes"),
        ({"filters": (8, 16), "strides": (1,)}, "one entry per block"),
        ({"input_shape": (4, 4, 1), "filters": (8,) * 4, "strides": (2,) * 4, "pooling": True}, "too small"),
        ({"head": "mlp"}, "head"),
    ],
)
def test_bad_configurations_are_explained(kwargs, message):
    config = {"input_shape": (28, 28, 1), "num_classes": 10, "filters": (8,), "strides": (1,), **kwargs}
    with pytest.raises(ValueError, match=message):
        cnn.create_cnn_model(**config)


def test_predict_classes_checks_its_input():
    model = cnn.create_fashion_cnn()
    labels = cnn.predict_classes(model, np.zeros((3, 28, 28), np.uint8))
    assert labels.shape == (3,) and labels.dtype.kind == "i"
    with pytest.raises(ValueError, match="divide by 255"):
        cnn.predict_classes(model, np.full((3, 28, 28), 200.0))
    with pytest.raises(ValueError, match="grayscale"):
        cnn.predict_classes(model, np.zeros((3, 28, 28, 3), np.uint8))


def test_one_cycle_schedule_rises_then_falls():
    schedule = cnn.one_cycle_schedule(100, peak_learning_rate=1e-2)
    rates = [float(schedule(step)) for step in (0, 10, 50, 99)]
    assert rates[0] < rates[1] and abs(rates[1] - 1e-2) < 1e-6
    assert rates[1] > rates[2] > rates[3]
    with pytest.raises(ValueError):
        cnn.one_cycle_schedule(0)


def test_steps_per_execution_trains_to_the_same_weights():
    """Several steps per call of the compiled function: same steps, same weights, only fewer calls."""
    rng = np.random.default_rng(0)
    images = rng.random((96, 8, 8, 1), dtype=np.float32)
    labels = rng.integers(0, 3, 96)

    def tiny_cnn():
        keras.utils.set_random_seed(1)
        return cnn.create_cnn_model((8, 8, 1), 3, (4,), (1,), batch_norm=False, pooling=True, head="flatten")

    weights = {}
    for steps_per_execution in (1, 3):
        model = cnn.compile_classifier(tiny_cnn(), cnn.one_cycle_schedule(12), steps_per_execution=steps_per_execution)
        model.fit(images, labels, batch_size=16, epochs=2, shuffle=False, verbose=0)  # 6 steps an epoch
        weights[steps_per_execution] = model.get_weights()
    assert model.steps_per_execution == 3
    assert not np.array_equal(tiny_cnn().get_weights()[0], weights[1][0]), "training must have moved the weights"
    for plain, batched in zip(weights[1], weights[3]):
        np.testing.assert_array_equal(plain, batched)


def test_train_fashion_cnn_trains_the_overridden_network():
    """``model_overrides`` swaps the network, not the recipe; the record says which network it was."""
    model, record = cnn.train_fashion_cnn(
        epochs=1, verbose=0, callbacks=[StopAfterOneBatch()], model_overrides={"filters": (8, 16)}
    )
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.filters for layer in convolutions] == [8, 16]
    assert record["model_overrides"] == {"filters": (8, 16)}
    assert "precision" not in record, "a float32 record looks as it did before precision existed"


def test_mixed_bfloat16_computes_in_bfloat16_and_leaves_the_session_at_float32():
    """The convolutions compute in bfloat16, the softmax in float32; the global policy is restored."""
    model, record = cnn.train_fashion_cnn(
        epochs=1, verbose=0, callbacks=[StopAfterOneBatch()], precision="mixed_bfloat16"
    )
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {(layer.compute_dtype, layer.variable_dtype) for layer in convolutions} == {("bfloat16", "float32")}
    assert model.get_layer("probabilities").compute_dtype == "float32"
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer), "bfloat16 needs no loss scaling"
    assert np.isfinite(record["history"]["loss"]).all()
    assert record["precision"] == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    assert cnn.create_fashion_cnn().layers[1].compute_dtype == "float32"


def test_dtype_policy_restores_the_policy_it_found_even_after_an_error():
    with cnn.dtype_policy("mixed_float16"):
        with pytest.raises(RuntimeError, match="inside"):
            with cnn.dtype_policy("mixed_bfloat16"):
                assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
                raise RuntimeError("inside")
        assert keras.mixed_precision.global_policy().name == "mixed_float16"
    assert keras.mixed_precision.global_policy().name == "float32"


def test_unknown_precision_is_refused_before_any_data_is_loaded(monkeypatch):
    from visionbook import data

    def no_loading():
        raise AssertionError("data was loaded before the precision was checked")

    monkeypatch.setattr(data, "fashion_mnist_for_training", no_loading)
    with pytest.raises(ValueError, match="'float32', 'mixed_bfloat16'"):
        cnn.train_fashion_cnn(epochs=1, verbose=0, precision="mixed_float16")


@pytest.mark.parametrize(
    "overrides, error, message",
    [("filters", TypeError, "dict of create_cnn_model options"), ({"filterz": (8, 16)}, ValueError, "filterz")],
)
def test_bad_model_overrides_are_refused_before_any_data_is_loaded(monkeypatch, overrides, error, message):
    from visionbook import data

    def no_loading():
        raise AssertionError("data was loaded before the overrides were checked")

    monkeypatch.setattr(data, "fashion_mnist_for_training", no_loading)
    with pytest.raises(error, match=message):
        cnn.train_fashion_cnn(epochs=1, verbose=0, model_overrides=overrides)


def test_without_batchnorm_the_relu_is_the_convolutions_activation():
    """conv_block(batch_norm=False) is the Conv2D(..., activation="relu") of a Sequential model."""
    model = cnn.create_cnn_model((8, 8, 1), 3, (4,), (1,), batch_norm=False, head="flatten")
    convolution = model.layers[1]
    assert isinstance(convolution, keras.layers.Conv2D) and convolution.get_config()["activation"] == "relu"
    assert not any(isinstance(layer, keras.layers.Activation) for layer in model.layers)


def _chapter_4s_network():
    """The network as chapter 4 writes it."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_chapter_4s_sequential_network_is_the_fashion_cnn():
    """Written layer by layer or built by the package: the same network, the same starting weights.

    So chapter 4's training run and :func:`cnn.train_fashion_cnn` give later
    chapters the same judge, whichever of the two filled the model store.
    """
    keras.utils.set_random_seed(3)
    written = _chapter_4s_network()
    keras.utils.set_random_seed(3)
    package = cnn.create_fashion_cnn()
    architecture.assert_same_architecture(written, package)
    for a, b in zip(written.get_weights(), package.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_split_off_validation_holds_out_the_last_images():
    images, labels = np.arange(50).reshape(10, 5), np.arange(10)
    (x_fit, y_fit), (x_val, y_val) = cnn.split_off_validation(images, labels, 3)
    assert y_fit.tolist() == list(range(7)) and y_val.tolist() == [7, 8, 9]
    np.testing.assert_array_equal(np.concatenate([x_fit, x_val]), images)
    with pytest.raises(ValueError, match="smaller than the number of images"):
        cnn.split_off_validation(images, labels, 10)
    with pytest.raises(ValueError, match="same length"):
        cnn.split_off_validation(images, labels[:9], 3)
    with pytest.raises(ValueError, match="validation_images"):
        cnn.split_off_validation(images, labels, 0)


def test_training_batches_reshuffle_every_epoch_and_repeat_across_runs():
    numbers = np.arange(100)

    def two_epochs():
        dataset = cnn.training_batches(numbers, numbers, 32, seed=7)
        return [np.concatenate([x for x, _ in dataset.as_numpy_iterator()]) for _ in range(2)]

    first, second = two_epochs()
    assert sorted(first.tolist()) == numbers.tolist(), "an epoch is a permutation of all images"
    assert not np.array_equal(first, second), "a new order every epoch"
    assert all(np.array_equal(a, b) for a, b in zip(two_epochs(), (first, second))), "the same orders each run"
    batches = list(cnn.training_batches(numbers, numbers, 32, seed=7).as_numpy_iterator())
    assert [len(x) for x, _ in batches] == [32, 32, 32, 4]
    assert all(np.array_equal(x, y) for x, y in batches), "images and labels stay paired"
    options = cnn.training_batches(numbers, numbers, 32, seed=7).options()
    assert options.autotune.enabled is False, "chapter 4 switches tf.data's tuner off"
    with pytest.raises(ValueError, match="batch_size"):
        cnn.training_batches(numbers, numbers, 0, seed=7)
    with pytest.raises(ValueError, match="same length"):
        cnn.training_batches(numbers, numbers[:5], 32, seed=7)


def test_train_fashion_cnn_validates_on_held_out_images_and_tests_at_the_end(monkeypatch):
    """The recipe on a small stand-in for Fashion-MNIST: validation every epoch, the test set once."""
    rng = np.random.default_rng(0)
    x, y = rng.random((260, 28, 28, 1), dtype=np.float32), np.arange(260) % 10
    monkeypatch.setattr(data, "fashion_mnist_for_training", lambda: ((x[:200], y[:200]), (x[200:], y[200:])))
    model, record = cnn.train_fashion_cnn(
        epochs=2, batch_size=50, verbose=0, validation_images=40, model_overrides={"filters": (4, 8)}
    )
    assert len(record["history"]["val_accuracy"]) == len(record["history"]["accuracy"]) == 2
    assert record["validation_images"] == 40 and record["epochs"] == 2
    assert record["test_accuracy"] == cnn.classification_accuracy(model, x[200:], y[200:])
    assert model.optimizer.iterations.numpy() == 2 * 4, "160 training images in batches of 50: 4 steps an epoch"


def test_classification_accuracy_checks_its_labels():
    model = cnn.create_fashion_cnn(filters=(4, 8), dense_units=8)
    images = np.zeros((4, 28, 28, 1), np.float32)
    predicted = cnn.predict_classes(model, images)
    assert cnn.classification_accuracy(model, images, predicted) == 1.0
    with pytest.raises(ValueError, match="labels have shape"):
        cnn.classification_accuracy(model, images, predicted[:3])


def test_fashion_training_is_the_recipe_train_fashion_cnn_defaults_to():
    import inspect

    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(cnn.train_fashion_cnn).parameters.items()
    }
    assert cnn.FASHION_TRAINING["model"] is cnn.FASHION_CNN
    for key, value in cnn.FASHION_TRAINING.items():
        if key != "model":
            assert defaults[key] == value, key
