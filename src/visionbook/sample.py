"""Sample images from a saved generator, from the command line.

    python -m visionbook.sample --out grid.png              # the book's GAN, 64 images
    python -m visionbook.sample --out images.npy --count 1000 --seed 3
    python -m visionbook.sample --generator my_gen.keras --out grid.png

A ``.png`` output is one image grid; a ``.npy`` output holds the images as
float32 ``(count, 28, 28, channels)`` in [0, 1].  An existing output file is
never overwritten unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow before it loads)
import keras
import numpy as np

from visionbook import gan, plots, store


class SamplingError(ValueError):
    """The generator file or the request cannot be used; the message says why."""


def load_generator(path: str | Path | None = None) -> keras.Model:
    """Load a generator saved in Keras format (default: the book's trained GAN).

    Checks that the file exists, loads it with ``safe_mode`` and without its
    training configuration (sampling needs no loss or optimizer), and checks
    that it maps a noise vector to an image.
    """
    if path is None:
        model_path, _ = store.model_paths("fashion_gan_generator", gan.FASHION_GAN)
        if not model_path.is_file():
            raise SamplingError(
                f"The book's GAN has not been trained yet ({model_path} is missing). Run the "
                "chapter 'Adversarial training' (book/07_adversarial_training.ipynb) or "
                "python -c 'from visionbook import gan; gan.trained_fashion_gan()', "
                "or pass --generator PATH."
            )
        path = model_path
    if not isinstance(path, (str, Path)):
        raise SamplingError(f"path must be a file path (str or Path), got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise SamplingError(f"{path} {what}: pass the path of a saved generator (.keras).")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:
        raise SamplingError(f"{path} could not be loaded as a Keras model ({err}).") from err
    shape_in, shape_out = model.input_shape, model.output_shape
    if not (
        isinstance(shape_in, tuple) and len(shape_in) == 2
        and isinstance(shape_out, tuple) and len(shape_out) == 4
    ):
        raise SamplingError(
            f"{path} is not a generator: it maps {shape_in} to {shape_out}, but a generator "
            "maps noise vectors (None, latent_dim) to images (None, height, width, channels)."
        )
    return model


def write_samples(generator: keras.Model, out: str | Path, count: int = 64, seed: int = 0,
                  ncols: int = 8, force: bool = False) -> Path:
    """Generate ``count`` images and write them to ``out`` (.png grid or .npy array)."""
    if not isinstance(out, (str, Path)):
        raise SamplingError(f"--out (out) must be a file path, got {type(out).__name__}.")
    for option, value, minimum in (("--count", count, 1), ("--seed", seed, 0), ("--ncols", ncols, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise SamplingError(f"{option} ({option[2:]}) must be a whole number >= {minimum}, got {value!r}.")
    out = Path(out)
    if out.suffix not in (".png", ".npy"):
        raise SamplingError(f"--out must end in .png (an image grid) or .npy (an array), got {out.name!r}.")
    if out.exists() and not force:
        raise SamplingError(f"{out} exists; choose another name or pass --force to overwrite it.")
    images = gan.sample(generator, count, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, images)
    else:
        from PIL import Image

        grid = plots.image_grid(images[..., 0] if images.shape[-1] == 1 else images, ncols=ncols)
        Image.fromarray(grid).save(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m visionbook.sample", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generator", help="a saved generator (.keras); default: the book's trained GAN")
    parser.add_argument("--out", required=True, help="output file: .png (grid) or .npy (array)")
    parser.add_argument("--count", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ncols", type=int, default=8)
    parser.add_argument("--force", action="store_true", help="overwrite an existing output file")
    args = parser.parse_args(argv)
    try:
        generator = load_generator(args.generator)
        out = write_samples(generator, args.out, args.count, args.seed, args.ncols, args.force)
    except SamplingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {args.count} samples to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
