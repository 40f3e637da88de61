"""visionbook: the shared code of *Image Recognition and Generation with Keras*.

The notebooks teach; this package keeps what several chapters reuse:

- :mod:`visionbook.data`: Fashion-MNIST (offline first, SHA-256 checked),
  bundled photos and digits, value-range and shape conversions;
- :mod:`visionbook.checks`: the checks of every argument a reader passes in,
  at the package's entry points;
- :mod:`visionbook.architecture`: the check that a chapter's network is the
  one the package keeps;
- :mod:`visionbook.cnn`: the article's CNN builder, repaired, and the
  Fashion-MNIST classifier chapter 4 writes;
- :mod:`visionbook.store`: the folder of trained models (train if missing);
- :mod:`visionbook.gan`: the generator and discriminator chapters 5 and 6
  write, and the Keras 3 GAN with the ``train_step`` chapter 7 writes;
- :mod:`visionbook.cgan`: a conditional GAN that makes a requested class,
  trained by the same ``train_step``;
- :mod:`visionbook.augmentation`: chapter 10's experiment: do generated
  images help a classifier trained on a small labelled set?
- :mod:`visionbook.vae`: a convolutional variational autoencoder;
- :mod:`visionbook.metrics`: Frechet distance, classifier score, class
  coverage and nearest neighbours, judged by a classifier passed in;
- :mod:`visionbook.plots`: image grids, curves, filters, feature maps,
  confusion matrices, animations;
- :mod:`visionbook.sample`: sample a saved generator from the command line;
- :mod:`visionbook.apps`: Part IV's helpers (digit-code composer, sign
  renderer, tissue images); pure NumPy and scikit-image, imported on demand.
"""

from __future__ import annotations

import os

# TensorFlow prints start-up notices (CUDA probing, CPU instruction sets) to
# stderr; they are not errors on a CPU-only machine and clutter the book.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from visionbook import architecture, cgan, checks, cnn, data, gan, metrics, plots, store  # noqa: E402

SEED = 42
__version__ = "0.1.0"
__all__ = ["SEED", "architecture", "cgan", "checks", "cnn", "data", "gan", "metrics", "plots", "store"]
