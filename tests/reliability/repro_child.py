"""Train the book's CNN, GAN and VAE for a few steps; save their weights.

    python repro_child.py OUT.npz

Run by ``test_reproducible.py`` twice, in two separate processes.  The book's
own training functions run unchanged (seed, architecture, optimizer,
schedule); only the data is cut to a small slice, so each model takes a few
steps.  The weights after training, and the loss history, go to ``OUT.npz``.
"""

from __future__ import annotations

import sys

import visionbook  # noqa: F401  (quietens TensorFlow before it loads)
import keras
import numpy as np

from visionbook import cnn, data, gan, vae

#: Images per split: four batches of 128, so every model takes four steps.
SLICE = 512


def main(out: str) -> None:
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(download=False)
    small = ((x_train[:SLICE], y_train[:SLICE]), (x_test[:SLICE], y_test[:SLICE]))

    def small_for_training(*args, **kwargs):
        (a, b), (c, d) = small
        return (data.as_batch(a), b), (data.as_batch(c), d)

    data.load_fashion_mnist = lambda *args, **kwargs: small
    data.fashion_mnist_for_training = small_for_training

    results: dict[str, np.ndarray] = {}
    keras.utils.set_random_seed(cnn.FASHION_TRAINING["seed"])  # what train_fashion_cnn starts from
    for i, weight in enumerate(cnn.create_fashion_cnn().get_weights()):
        results[f"cnn/initial{i:03d}"] = np.asarray(weight)
    trained = {
        "cnn": cnn.train_fashion_cnn(epochs=1, verbose=0, validation_images=64),
        "gan": gan.train_fashion_gan({**gan.FASHION_GAN, "epochs": 1}, verbose=0),
        "vae": vae.train_fashion_vae(epochs=1, verbose=0),
    }
    for name, (model, record) in trained.items():
        for i, weight in enumerate(model.get_weights()):
            results[f"{name}/weight{i:03d}"] = np.asarray(weight)
        for key, values in record["history"].items():
            results[f"{name}/history/{key}"] = np.asarray(values, dtype=np.float64)
    np.savez(out, **results)


if __name__ == "__main__":
    main(sys.argv[1])
