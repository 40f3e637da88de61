"""visionbook.architecture: the check that a chapter's network is the package's."""

import keras
import pytest
from keras import layers

from visionbook import architecture


def small_net(units=3, activation="relu", sequential=True):
    if sequential:
        return keras.Sequential(
            [keras.Input((4,)), layers.Dense(units, activation=activation), layers.Dense(2)]
        )
    inputs = keras.Input((4,))
    hidden = layers.Dense(units, activation=activation, name="renamed")(inputs)
    return keras.Model(inputs, layers.Dense(2)(hidden))


def test_sequential_and_functional_forms_of_one_network_match():
    architecture.assert_same_architecture(small_net(), small_net(sequential=False))
    assert architecture.architecture_differences(small_net(), small_net()) == []


def test_a_changed_setting_is_named():
    with pytest.raises(AssertionError, match=r"layer 1 \(Dense\): activation='relu' against 'tanh'"):
        architecture.assert_same_architecture(small_net(), small_net(activation="tanh"))


def test_a_changed_width_and_a_missing_layer_are_named():
    differences = architecture.architecture_differences(small_net(), small_net(units=5))
    assert any("units=3 against 5" in d for d in differences)
    shorter = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert any("3 layers, reference 2" in d for d in architecture.architecture_differences(small_net(), shorter))


def test_a_different_input_shape_is_named():
    other = keras.Sequential([keras.Input((5,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    assert any("Input" in d for d in architecture.architecture_differences(small_net(), other))


def test_weights_do_not_matter():
    a, b = small_net(), small_net()
    b.set_weights([w * 0 + 1 for w in b.get_weights()])
    architecture.assert_same_architecture(a, b)


def test_not_a_model_is_refused_with_its_name():
    with pytest.raises(TypeError, match="reference must be a keras.Model"):
        architecture.assert_same_architecture(small_net(), "generator")


def nested_net(embedding=8):
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(embedding), layers.Dense(3)], name="body")
    inputs = keras.Input((4,))
    return keras.Model(inputs, layers.Dense(2)(inner(inputs)))


def test_networks_inside_a_network_are_compared_layer_by_layer():
    architecture.assert_same_architecture(nested_net(), nested_net())  # auto-named inner layers differ
    differences = architecture.architecture_differences(nested_net(), nested_net(embedding=16))
    assert any("units=8 against 16" in d for d in differences)
