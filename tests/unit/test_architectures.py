"""Every model visionbook builds, pinned: input shape, output shape, parameter count.

One table for the whole package, so a change to any architecture shows up
here as a deliberate edit of a number (and the chapters that quote it).
Some rows repeat pins of the per-module tests; the table is the complete list.
"""

import numpy as np
import pytest

from visionbook import cgan, cnn, gan, vae


def _vae():
    model = vae.create_vae(seed=0)
    model.build((None, 28, 28, 1))
    return model


MODELS = {
    # name: (builder, input shape, output shape, parameters)
    "article CNN": (cnn.create_cnn_model, (None, 224, 224, 3), (None, 1000), 2_085_544),
    "Fashion-MNIST CNN": (cnn.create_fashion_cnn, (None, 28, 28, 1), (None, 10), 421_642),
    "Fashion-MNIST CNN, flip augmentation": (
        lambda: cnn.create_fashion_cnn(flip_augment=True), (None, 28, 28, 1), (None, 10), 421_642),
    # create_generator() and create_discriminator() are the networks the book's GAN trains (test_gan.py checks it).
    "GAN generator": (gan.create_generator, (None, 100), (None, 28, 28, 1), 363_241),
    "GAN discriminator": (gan.create_discriminator, (None, 28, 28, 1), (None, 1), 37_537),
    "conditional generator": (cgan.create_conditional_generator, [(None, 100), (None,)], (None, 28, 28, 1), 409_889),
    "conditional discriminator": (
        cgan.create_conditional_discriminator, [(None, 28, 28, 1), (None,)], (None, 1), 67_873),
    "VAE encoder": (vae.create_encoder, (None, 28, 28, 1), [(None, 16)] * 3, 209_760),
    "VAE decoder": (vae.create_decoder, (None, 16), (None, 28, 28, 1), 51_425),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_is_pinned(name):
    build, inputs, outputs, parameters = MODELS[name]
    model = build()
    assert model.input_shape == inputs, name
    got = model.output_shape
    assert (list(map(tuple, got)) if isinstance(got, list) else got) == outputs, name
    if parameters is not None:
        assert model.count_params() == parameters, f"{name}: {model.count_params():,} parameters"


def test_vae_is_its_encoder_plus_its_decoder():
    model = _vae()
    assert model.count_params() == 209_760 + 51_425 == 261_185
    assert tuple(model(np.zeros((2, 28, 28, 1), np.float32)).shape) == (2, 28, 28, 1)
