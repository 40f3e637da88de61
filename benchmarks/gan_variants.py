"""Try a change to the book's GAN: train it by seconds and score it as the peer benchmark does.

Usage (repository root, after ``bash scripts/setup.sh``; about the budget
plus a few seconds per evaluation)::

    .venv/bin/python benchmarks/gan_variants.py [--seconds 240] [--every 120] [options]

It trains :data:`visionbook.gan.FASHION_GAN`, changed by ``--config`` (a JSON
object of keys to override) and the training options below, with the loop of
``gan_vs_dcgan_tutorial.py`` (the compiled ``train_step``, the clock running
only during steps, all 60,000 training images), and prints after every
``--every`` seconds of training the Frechet distance, classes covered and
largest class share of 2,000 samples, judged by the book's CNN: for the
generator being trained and for an exponential moving average (EMA) of its
weights.  Nothing is saved.  The GAN's comparisons on the appendix page
``book/appendix/model_choices.md`` are single runs of this script (seed 42),
for example::

    --config '{"generator_widths": [128, 64, 16]}'   # a wider generator
    --config '{"decay_from": null}'                  # constant learning rates
    --config '{"minibatch_std": false}'              # no batch-spread channel
    --spread-group 4                                 # the spread of groups of 4 images

Differences of a point or two between single runs are within the noise of
GAN training; the script prints images per second so that a change's cost
is seen next to its gain.

With ``--race`` (repeatable, a JSON object of overrides each) it instead
races the book's GAN against each variant, as ``gan_vs_dcgan_tutorial.py``
races the tutorial: in turns of ``--turn`` seconds, so that all see the same
state of the machine, each for ``--seconds`` of training, scored every
``--every`` seconds.  For example, two wider generators::

    --seconds 300 --race '{"generator_widths": [128, 64, 16]}' \
        --race '{"generator_widths": [256, 128, 16]}'
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import visionbook  # noqa: F401  (quietens TensorFlow first)
import keras
import numpy as np
import tensorflow as tf
from keras import ops

from gan_vs_dcgan_tutorial import Contestant, book_trainer, race
from visionbook import cnn, data, gan, metrics

SAMPLES = 2000


def variant(text: str) -> dict:
    """:data:`gan.FASHION_GAN` with the overrides of the JSON object ``text`` (lists become tuples)."""
    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as err:
        raise SystemExit(f"not a JSON object: {text!r} ({err}); write e.g. '{{\"generator_widths\": [64, 32]}}'.") from err
    if not isinstance(overrides, dict):
        raise SystemExit(f"not a JSON object: {text!r}; write e.g. '{{\"generator_widths\": [64, 32]}}'.")
    unknown = sorted(set(overrides) - set(gan.FASHION_GAN))
    if unknown:
        raise SystemExit(f"unknown FASHION_GAN keys {unknown}; the keys are {sorted(gan.FASHION_GAN)}.")
    config = {**gan.FASHION_GAN, **overrides}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}


def run_race(variants: list[str], seconds: float, every: float, turn: float) -> None:
    """Race the book's GAN against each of ``variants`` (JSON overrides) and print each one's last score."""
    judge, _ = cnn.trained_fashion_cnn(verbose=0)
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    reference = metrics.features(judge, x_test[:5000])
    names = ["the book's GAN", *variants]
    configs = [gan.FASHION_GAN, *(variant(v) for v in variants)]
    contestants = [Contestant(n, functools.partial(book_trainer, config=c), x_train) for n, c in zip(names, configs)]
    race(contestants, seconds, every, turn, judge, reference)
    print(f"\nafter {seconds:g} s each ({SAMPLES} samples, turns of {turn:g} s):")
    for contestant in contestants:
        last = contestant.rows[-1]
        print(f"  {contestant.name}: Frechet distance {last['frechet_distance']:.2f} after {last['images_seen']:,} images, "
              f"{last['classes_covered']} classes, largest share {last['largest_class_share']:.3f}")


def grouped_spread_call(group: int):
    """``MinibatchStdDev.call`` with the spread measured in groups of ``group`` images (progressive GANs).

    The batch is split into groups of ``group`` images (image ``i`` in group
    ``i % (batch // group)``); each image gets its own group's spread.
    """

    def call(self, x):
        grouped = ops.reshape(x, (group, -1, *x.shape[1:]))
        spread = ops.mean(ops.sqrt(ops.var(grouped, axis=0) + 1e-8), axis=(1, 2, 3))
        per_image = ops.tile(spread, [group])[:, None, None, None]
        return ops.concatenate([x, ops.ones_like(x[..., :1]) * per_image], axis=-1)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=240.0, help="training budget")
    parser.add_argument("--every", type=float, default=120.0, help="seconds of training between evaluations")
    parser.add_argument("--config", default="{}", help="JSON object of FASHION_GAN keys to override")
    parser.add_argument("--ema", type=float, default=0.999, help="decay of the weight average that is also scored")
    parser.add_argument("--lr-d", type=float, default=0.0, help="discriminator learning rate (default: the config's)")
    parser.add_argument("--beta-2", type=float, default=0.999, help="Adam's beta_2 for both networks")
    parser.add_argument("--spread-group", type=int, default=0, help="measure the minibatch spread in groups of N")
    parser.add_argument("--race", action="append", default=[], metavar="JSON",
                        help="race the book's GAN against this variant (repeatable; --config, --ema, --lr-d, "
                        "--beta-2 and --spread-group do not apply)")
    parser.add_argument("--turn", type=float, default=10.0, help="seconds per turn in a race")
    args = parser.parse_args()
    if args.race:
        run_race(args.race, args.seconds, args.every, args.turn)
        return

    config = variant(args.config)
    if args.spread_group:
        gan.MinibatchStdDev.call = grouped_spread_call(args.spread_group)
    judge, _ = cnn.trained_fashion_cnn(verbose=0)
    (x_train, _), (x_test, _) = data.load_fashion_mnist()
    reference = metrics.features(judge, x_test[:5000])

    keras.utils.set_random_seed(config["seed"])
    model = gan.build_fashion_gan(config)
    lr_g, lr_d = config["learning_rate"], args.lr_d or config["learning_rate"]
    model.compile(
        d_optimizer=keras.optimizers.Adam(lr_d, beta_1=config["beta_1"], beta_2=args.beta_2),
        g_optimizer=keras.optimizers.Adam(lr_g, beta_1=config["beta_1"], beta_2=args.beta_2),
    )
    generator = model.generator
    average = keras.models.clone_model(generator)
    average.set_weights(generator.get_weights())
    step = tf.function(model.train_step)

    @tf.function
    def update_average() -> None:
        for mean, weight in zip(average.weights, generator.weights):
            mean.assign(args.ema * mean + (1 - args.ema) * weight)

    noise = np.random.default_rng(7).standard_normal((SAMPLES, config["latent_dim"])).astype("float32")

    def score(network: keras.Model) -> str:
        s = metrics.judge(judge, gan.generate(network, noise), reference)
        return f"FD {s['frechet_distance']:.2f}, {s['classes_covered']} classes, largest {s['largest_class_share']:.3f}"

    print("config", config, "| options", vars(args), flush=True)
    dataset = gan.real_images_dataset(x_train, config["batch_size"], config["seed"]).repeat()
    trained, seen, next_check = 0.0, 0, args.every
    decay_from = config.get("decay_from")  # as the book's recipe, but over the budget in seconds
    for images in dataset:
        start = time.perf_counter()
        if decay_from is not None:
            factor = float(gan.decay_factor(trained / args.seconds, decay_from))
            model.g_optimizer.learning_rate.assign(lr_g * factor)
            model.d_optimizer.learning_rate.assign(lr_d * factor)
        step(images)
        if args.ema:
            update_average()
        trained += time.perf_counter() - start
        seen += config["batch_size"]
        if trained >= next_check:
            print(f"{trained:.0f} s, {seen:,} images ({seen / trained:.0f}/s): generator {score(generator)}"
                  f" | EMA {score(average) if args.ema else '-'}", flush=True)
            next_check += args.every
            if trained >= args.seconds:
                break


if __name__ == "__main__":
    main()
