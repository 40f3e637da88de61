"""Sample images from a saved generator, from the command line.

    python -m visionbook.sample --out grid.png              # the book's GAN, 64 images
    python -m visionbook.sample --out images.npy --count 1000 --seed 3
    python -m visionbook.sample --generator my_gen.keras --out grid.png

A ``.png`` output is one image grid; a ``.npy`` output holds the images as
float32 ``(count, 28, 28, channels)`` in [0, 1].  An existing output file is
never overwritten unless ``--force`` is given.  A wrong request ends with one
line, ``error: ...``, and exit status 2 (as argparse's own errors do).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import visionbook  # noqa: F401  (quietens TensorFlow before it loads)
import keras
import numpy as np

from visionbook import checks, gan, plots, store


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
        raise SamplingError(f"--generator (path) must be a file path (str or Path), got {type(path).__name__}.")
    path = Path(path)
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise SamplingError(f"--generator (path): {path} {what}: pass the path of a saved generator (.keras).")
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # damaged, foreign, unsafe: all mean "not a usable generator"
        raise SamplingError(f"--generator (path): {path} could not be loaded as a Keras model ({err}).") from err
    shape_in, shape_out = model.input_shape, model.output_shape
    if not (
        isinstance(shape_in, tuple) and len(shape_in) == 2
        and isinstance(shape_out, tuple) and len(shape_out) == 4
    ):
        raise SamplingError(
            f"--generator (path): {path} is not a generator: it maps {shape_in} to {shape_out}, but a "
            "generator maps noise vectors (None, latent_dim) to images (None, height, width, channels)."
        )
    return model


def write_samples(generator: keras.Model, out: str | Path, count: int = 64, seed: int = 0,
                  ncols: int = 8, force: bool = False) -> Path:
    """Generate ``count`` images and write them to ``out`` (.png grid or .npy array).

    Every argument is checked before anything is generated; each error is a
    :class:`SamplingError` that names the command-line option.
    """
    try:
        checks.latent_input_size(generator, "generator")
        height, width, channels = (d or 1 for d in generator.output_shape[1:])
        count = checks.check_count(count, "--count (count)", item_bytes=3 * 4 * height * width * channels)
        seed = checks.check_seed(seed, "--seed (seed)")
        ncols = checks.check_positive_int(ncols, "--ncols (ncols)")
        force = checks.check_flag(force, "--force (force)")
        out = checks.check_output_path(out, "--out (out)", overwrite=force, suffixes=(".png", ".npy"))
    except FileExistsError:
        raise SamplingError(f"{out} exists; choose another name or pass --force to overwrite it.") from None
    except (ValueError, TypeError, OSError) as err:
        raise SamplingError(str(err)) from err
    if out.suffix.lower() == ".png" and channels not in (1, 3):
        raise SamplingError(f"a .png grid needs images of 1 or 3 channels, the generator makes {channels}: use .npy.")
    images = gan.sample(generator, count, seed=seed)
    if out.suffix.lower() == ".npy":
        write = lambda path: np.save(path, images)  # noqa: E731
    else:
        from PIL import Image

        grid = plots.image_grid(images[..., 0] if images.shape[-1] == 1 else images, ncols=ncols)
        write = lambda path: Image.fromarray(grid).save(path, format="PNG")  # noqa: E731
    try:
        return checks.write_file(out, write, overwrite=force, argument="--out (out)")
    except FileExistsError as err:
        raise SamplingError(f"{err} Pass --force to overwrite it.") from err
    except OSError as err:
        raise SamplingError(f"--out (out): {out} could not be written ({err.strerror or err}).") from err


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
    except (ValueError, TypeError, OSError, MemoryError) as err:  # SamplingError, and whatever else a bad request meets
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    print(f"wrote {args.count} samples to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
