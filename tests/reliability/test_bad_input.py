"""Bad input at scale: every public visionbook function, fed by Hypothesis.

Each property draws arguments of many shapes, dtypes and value ranges (NaN,
inf, empty arrays, strings, complex numbers, ragged lists, wrong class
counts, wrong latent sizes, models of the wrong kind) and accepts only:

- a result, which is then checked (shape, range, values against a reference
  where one is simple to state); or
- a ``ValueError``/``TypeError`` raised by visionbook's own checks whose
  message names the argument (see ``fuzzkit.attempt``).

Where a reference answer is known, the property also demands that valid
input is accepted and invalid input refused ("oracle" checks).  A raw
TensorFlow/NumPy error, another exception type, or a hang fails the test.
The number of cases tried is printed at the end of the run.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from unittest import mock

import matplotlib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fuzzkit
from fuzzkit import arrays, attempt, expect, models, pool

import visionbook  # noqa: F401
import keras
from visionbook import cgan, checks, cnn, data, gan, metrics, plots, sample, store, vae
from visionbook.apps import cells, codes, signs

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FEW = settings(max_examples=max(10, settings.default.max_examples // 3))
SOME = settings(max_examples=max(10, settings.default.max_examples // 2))


@pytest.fixture(autouse=True, scope="module")
def _tiny_models():
    fuzzkit.build_all()
    yield
    plt.close("all")


class Reached(Exception):
    """Training would start now: every argument passed the checks."""


def _reached(*args, **kwargs):
    raise Reached


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


@given(arrays())
def test_to_unit_range(images):
    ok, out = attempt("data.to_unit_range", lambda: data.to_unit_range(images), ["images"])
    expect(ok, fuzzkit.unit_range_ok(images), out, "to_unit_range")
    if ok:
        assert out.dtype == np.float32 and out.shape == np.shape(images)
        np.testing.assert_allclose(out, fuzzkit.unit_range_result(images), rtol=1e-6)
        assert 0.0 <= out.min() and out.max() <= 1.0


@given(arrays(kinds=(*fuzzkit.PIXEL_KINDS, "normal")))
def test_tanh_range_round_trip(images):
    ok, out = attempt("data.to_tanh_range", lambda: data.to_tanh_range(images), ["images"])
    expect(ok, fuzzkit.unit_range_ok(images), out, "to_tanh_range")
    if ok:
        assert -1.0 <= out.min() and out.max() <= 1.0
    ok, back = attempt("data.from_tanh_range", lambda: data.from_tanh_range(images), ["images"])
    a = fuzzkit.as_numpy(images)
    with np.errstate(over="ignore"):
        valid = (
            a is not None and a.dtype.kind in "buif" and a.size > 0
            and bool(np.all(np.isfinite(a.astype(np.float64))))
            and bool(np.all(np.abs(a.astype(np.float32)) <= 1.0 + 1e-6))
        )
    expect(ok, valid, back, "from_tanh_range")
    if ok:
        np.testing.assert_allclose(back, np.clip((a.astype(np.float32) + 1) / 2, 0, 1), atol=1e-6)


SIZES = fuzzkit.pool([(28, 28), [8, 8], (np.int64(32), 32)], [(0, 28), (28,), "28", (28.0, 28), (-1, 5), None, (True, 28)])
CHANNELS = fuzzkit.pool([1, 3], [0, -1, 2.0, True, "1", None])


@given(arrays(), SIZES, CHANNELS)
def test_as_batch(images, size, channels):
    (size, size_ok), (channels, channels_ok) = size, channels
    ok, out = attempt(
        "data.as_batch", lambda: data.as_batch(images, size, channels), ["images", "size", "channels"]
    )
    valid = size_ok and channels_ok and fuzzkit.image_batch_ok(images, tuple(size), channels)
    expect(ok, valid, out, "as_batch")
    if ok:
        expected = fuzzkit.batch_shape(np.shape(images), tuple(size), channels)
        assert out.shape == expected and out.dtype == np.float32
        np.testing.assert_allclose(out.ravel(), fuzzkit.unit_range_result(images).ravel(), rtol=1e-6)


LATENT_SHAPES = ((8,), (3, 8), (3, 4), (0, 8), (3, 8, 1), (), (2, 100), (1, 8))


@given(arrays(LATENT_SHAPES, fuzzkit.LATENT_KINDS), fuzzkit.pool([8, np.int32(4)], [0, -3, 2.5, True, "8", None]))
def test_as_latent_batch(vectors, latent_dim):
    latent_dim, dim_ok = latent_dim
    ok, out = attempt(
        "checks.as_latent_batch", lambda: checks.as_latent_batch(vectors, latent_dim), ["latent"]
    )
    expect(ok, dim_ok and fuzzkit.latent_ok(vectors, int(latent_dim)), out, "as_latent_batch")
    if ok:
        assert out.shape == (fuzzkit.latent_count(vectors), latent_dim) and out.dtype == np.float32


@FEW
@given(st.one_of(st.sampled_from(data.BUNDLED_PHOTOS), st.text(max_size=8), st.integers(), st.none(), st.just(["camera"])))
def test_load_photo(name):
    ok, out = attempt("data.load_photo", lambda: data.load_photo(name), ["photo", "name"])
    expect(ok, name in data.BUNDLED_PHOTOS, out, "load_photo")
    if ok:
        assert out.dtype == np.uint8 and out.ndim in (2, 3)


#: Folders named for Fashion-MNIST: "<copy>" is a complete copy (the data
#: installed for the tests); a named folder that lacks it is refused, never
#: replaced by another copy. ``search_ok``: a path the search path accepts.
DATA_DIRS = st.sampled_from([
    (None, True, True), ("<copy>", True, True), ("/nonexistent/visionbook", False, True),
    (Path("/nonexistent"), False, True), ("/", False, True), ("", False, False), (5, False, False),
    (3.2, False, False), (b"/tmp", False, False), (["/tmp"], False, False), ({}, False, False),
])
DOWNLOADS = fuzzkit.pool([False, True], [0, 1, "yes", None])


@FEW
@given(DATA_DIRS, DOWNLOADS)
def test_load_fashion_mnist(data_dir, download):
    # The data is on disk, so download=True never reaches the network here.
    (data_dir, dir_ok, search_ok), (download, download_ok) = data_dir, download
    if data_dir == "<copy>":
        data_dir = data.first_complete_folder(data.fashion_mnist_search_path(None))
    with mock.patch.dict(os.environ):
        os.environ.pop(data.DATA_DIR_ENV, None)
        ok, out = attempt(
            "data.load_fashion_mnist",
            lambda: data.load_fashion_mnist(data_dir, download=download),
            ["data_dir", "download"],
        )
        expect(ok, dir_ok and download_ok, out, "load_fashion_mnist")
        if ok:
            (x_train, y_train), (x_test, _) = out
            assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
            assert y_train.max() == 9
        ok, out = attempt(
            "data.fashion_mnist_search_path", lambda: data.fashion_mnist_search_path(data_dir), ["data_dir"]
        )
        expect(ok, search_ok, out, "fashion_mnist_search_path")
        if ok and data_dir is not None:
            assert out == [Path(data_dir)], "a named folder must be the only place searched"


# --------------------------------------------------------------------------
# cnn
# --------------------------------------------------------------------------

CNN_ARGUMENTS = {
    "input_shape": ([(28, 28, 1), (8, 8, 3), (5, 7, 2)],
                    [(28, 28), (28, 28, 0), (1, 1, 1), "28x28", 28, (28.5, 28, 1), (True, 28, 1), (28, 28, -1), None]),
    "num_classes": ([2, 10, np.int64(3)], [1, 0, -5, 2.5, True, "10", None]),
    "filters": ([(4,), [4], (np.int32(4),)], [(), (0,), (-4,), (4.5,), ("4",), "4", 4, None, (True,), (4, 8)]),
    "strides": ([(1,), (2,)], [(0,), (1, 1), (), (1.5,), None]),
    "batch_norm": ([True, False], [1, "yes", None]),
    "bn_momentum": ([0.0, 0.5, 0.99], [1.0, -0.1, float("nan"), float("inf"), "0.9", None]),
    "pooling": ([True, False], [0, "no"]),
    "head": (["gap", "flatten"], ["mlp", "", None, 3]),
    "dense_units": ([0, 8], [-1, 2.5, True, "8", None]),
    "dropout": ([0.0, 0.3], [1.0, -0.2, float("nan"), "0.1", None]),
    "flip_augment": ([False, True], [1, None]),
    "name": (["cnn", "x_1"], ["", 5, None]),
}
CNN_BASE = {
    "input_shape": (28, 28, 1), "num_classes": 10, "filters": (4,), "strides": (1,), "batch_norm": False,
    "pooling": True, "head": "flatten", "dense_units": 0, "dropout": 0.0,
}


@st.composite
def cnn_configs(draw):
    return fuzzkit.draw_arguments(draw, CNN_ARGUMENTS, CNN_BASE)


@SOME
@given(cnn_configs())
def test_create_cnn_model(case):
    config, valid = case
    ok, out = attempt("cnn.create_cnn_model", lambda: cnn.create_cnn_model(**config), list(CNN_ARGUMENTS))
    expect(ok, valid, out, f"create_cnn_model({config})")
    if ok:
        assert out.input_shape == (None, *config["input_shape"])
        assert out.output_shape == (None, config["num_classes"])


@FEW
@given(fuzzkit.POSITIVE_INTS, pool([3, (3, 3), [1, 2]], [0, (3,) * 3, (3, 0), 2.5, "3", None]),
       pool([1, (2, 1)], [0, -1, (1, 1, 1), 1.5]), pool(["same", "SAME", "valid"], ["full", 3, None]))
def test_conv_block(num_filters, kernel_size, strides, padding):
    args = [num_filters, kernel_size, strides, padding]
    inputs = keras.Input((8, 8, 1))
    ok, out = attempt(
        "cnn.conv_block", lambda: cnn.conv_block(inputs, *(v for v, _ in args)),
        ["num_filters", "kernel_size", "strides", "padding"],
    )
    expect(ok, all(valid for _, valid in args), out, "conv_block")
    if ok:
        assert out.shape[-1] == num_filters[0]


@given(fuzzkit.POSITIVE_INTS, pool([1e-3, 3, np.float32(0.1)], [0.0, -1e-3, float("nan"), float("inf"), "fast", None]),
       pool([0.0, 0.1, 0.5], [1.0, -0.1, float("nan"), "0.1"]))
def test_one_cycle_schedule(total_steps, peak, warmup):
    args = [total_steps, peak, warmup]
    ok, out = attempt(
        "cnn.one_cycle_schedule", lambda: cnn.one_cycle_schedule(*(v for v, _ in args)),
        ["total_steps", "peak_learning_rate", "warmup_fraction"],
    )
    expect(ok, all(valid for _, valid in args), out, "one_cycle_schedule")
    if ok:
        rates = [float(out(step)) for step in (0, total_steps[0] // 2, total_steps[0])]
        assert all(math.isfinite(r) and 0.0 <= r <= float(peak[0]) * (1 + 1e-6) for r in rates)


@FEW
@given(models("classifier"), pool([1e-3, "schedule"], [0.0, -1.0, float("nan"), "fast", None]), fuzzkit.POSITIVE_INTS)
def test_compile_classifier(model, learning_rate, steps_per_execution):
    (net, kind), (rate, rate_ok), (steps, steps_ok) = model, learning_rate, steps_per_execution
    if rate == "schedule":
        rate = cnn.one_cycle_schedule(10)
    ok, out = attempt(
        "cnn.compile_classifier", lambda: cnn.compile_classifier(net, rate, steps_per_execution=steps),
        ["model", "learning_rate", "steps_per_execution"],
    )
    expect(ok, kind != "junk" and rate_ok and steps_ok, out, "compile_classifier")


BATCH_SIZES = pool([1000, 1, 7], [0, -1, 2.5, None, True])


@SOME
@given(models("classifier", "classifier3", "rgb_classifier", "generator", "encoder"), arrays(), BATCH_SIZES)
def test_predict_classes(model, images, batch_size):
    (net, kind), (size, size_ok) = model, batch_size
    ok, out = attempt(
        "cnn.predict_classes", lambda: cnn.predict_classes(net, images, size), ["model", "images", "batch_size"]
    )
    channels = 3 if kind == "rgb_classifier" else 1
    valid = kind.endswith("classifier") or kind == "classifier3"
    valid = valid and size_ok and fuzzkit.image_batch_ok(images, (28, 28), channels)
    expect(ok, valid, out, f"predict_classes({kind})")
    if ok:
        classes = net.output_shape[-1]
        assert out.shape == (fuzzkit.batch_shape(np.shape(images), (28, 28), channels)[0],)
        assert out.min() >= 0 and out.max() < classes


TRAINING = {
    "epochs": fuzzkit.POSITIVE_INTS,
    "batch_size": fuzzkit.POSITIVE_INTS,
    "seed": fuzzkit.SEEDS,
}


@FEW
@given(st.fixed_dictionaries({**TRAINING, "peak_learning_rate": pool([3e-3], [0.0, -1.0, float("nan"), "x"])}))
def test_train_fashion_cnn_checks_before_training(arguments):
    kwargs = {k: v for k, (v, _) in arguments.items()}
    valid = all(ok_ for _, ok_ in arguments.values())
    with mock.patch.object(data, "fashion_mnist_for_training", _reached):
        try:
            ok, out = attempt("cnn.train_fashion_cnn", lambda: cnn.train_fashion_cnn(**kwargs, verbose=0), list(kwargs))
        except Reached:
            assert valid, f"train_fashion_cnn({kwargs}) went on to training"
            return
    assert not valid, f"train_fashion_cnn({kwargs}) refused valid arguments: {out}"


# --------------------------------------------------------------------------
# gan
# --------------------------------------------------------------------------


@SOME
@given(models("generator", "classifier", "decoder"), pool([1, 5, 33], [0, -1, 2.5, True, "3", None]),
       fuzzkit.SEEDS, BATCH_SIZES)
def test_gan_sample(model, count, seed, batch_size):
    (net, kind), args = model, [count, seed, batch_size]
    ok, out = attempt(
        "gan.sample", lambda: gan.sample(net, *(v for v, _ in args)), ["generator", "count", "seed", "batch_size"]
    )
    valid = kind in ("generator", "decoder") and all(v for _, v in args)
    expect(ok, valid, out, f"gan.sample({kind})")
    if ok:
        assert out.shape == (count[0], 28, 28, 1) and 0.0 <= out.min() and out.max() <= 1.0


@SOME
@given(models("generator", "generator16", "classifier"), arrays(LATENT_SHAPES, fuzzkit.LATENT_KINDS))
def test_gan_generate(model, noise):
    net, kind = model
    ok, out = attempt("gan.generate", lambda: gan.generate(net, noise), ["generator", "noise"])
    latent = {"generator": 8, "generator16": 16}.get(kind)
    expect(ok, latent is not None and fuzzkit.latent_ok(noise, latent), out, f"gan.generate({kind})")
    if ok:
        assert out.shape == (fuzzkit.latent_count(noise), 28, 28, 1)
        assert 0.0 <= out.min() and out.max() <= 1.0


@SOME
@given(arrays(), pool([1, 2], [0, -1, 1.5, None, 10**6]), fuzzkit.SEEDS)
def test_real_images_dataset(images, batch_size, seed):
    (size, size_ok), (seed, seed_ok) = batch_size, seed
    ok, out = attempt(
        "gan.real_images_dataset", lambda: gan.real_images_dataset(images, size, seed),
        ["images", "batch_size", "seed"],
    )
    valid = size_ok and seed_ok and fuzzkit.image_batch_ok(images)
    valid = valid and size <= fuzzkit.batch_shape(np.shape(images), (28, 28), 1)[0]  # no empty dataset
    expect(ok, valid, out, "real_images_dataset")
    if ok:
        first = next(iter(out)).numpy()
        assert first.shape == (size, 28, 28, 1) and -1.0 <= first.min() and first.max() <= 1.0


@FEW
@given(fuzzkit.POSITIVE_INTS, fuzzkit.SEEDS, fuzzkit.POSITIVE_INTS)
def test_sample_grid_callback(count, seed, ncols):
    args = [count, seed, ncols]
    ok, out = attempt("gan.SampleGrid", lambda: gan.SampleGrid(*(v for v, _ in args)), ["count", "seed", "ncols"])
    expect(ok, all(v for _, v in args), out, "SampleGrid")


@FEW
@given(pool([8, 100], [0, -1, 2.5, "100", None]), pool([1, 3], [0, -1, 1.5, None]))
def test_create_generator_and_discriminator(latent_dim, channels):
    # Weak property only: their signatures are the chapter's to change.
    (latent, _), (channels, _) = latent_dim, channels
    ok, out = attempt(
        "gan.create_generator", lambda: gan.create_generator(latent_dim=latent, channels=channels),
        ["latent_dim", "channels"],
    )
    if ok:
        assert out.input_shape == (None, int(latent)) and out.output_shape == (None, 28, 28, int(channels))
    ok, out = attempt("gan.create_discriminator", lambda: gan.create_discriminator(channels=channels), ["channels"])
    if ok:
        assert out.input_shape == (None, 28, 28, int(channels)) and out.output_shape == (None, 1)


# --------------------------------------------------------------------------
# vae
# --------------------------------------------------------------------------

FILTERS = pool([(4, 4), [4, 8]], [(4,), (4, 4, 4), (0, 4), (4.5, 4), "44", None, 4])


@FEW
@given(pool([2, 4], [0, -1, 2.5, True, "4", None]), FILTERS, pool([8], [0, -1, 1.5, True]))
def test_create_encoder_and_decoder(latent_dim, filters, dense_units):
    args = [latent_dim, filters, dense_units]
    values = [v for v, _ in args]
    ok, out = attempt(
        "vae.create_encoder", lambda: vae.create_encoder(*values), ["latent_dim", "filters", "dense_units"]
    )
    expect(ok, all(v for _, v in args), out, "create_encoder")
    if ok:
        assert [tuple(s) for s in out.output_shape] == [(None, latent_dim[0])] * 3
    ok, out = attempt("vae.create_decoder", lambda: vae.create_decoder(*values[:2]), ["latent_dim", "filters"])
    expect(ok, latent_dim[1] and filters[1], out, "create_decoder")
    if ok:
        assert out.input_shape == (None, latent_dim[0]) and out.output_shape == (None, 28, 28, 1)


@FEW
@given(pool([None, 0, 5], []), pool([{}, {"latent_dim": 2}], [{"bogus": 1}, {"filters": (4,)}, {"latent_dim": 0}]))
def test_create_vae(seed, overrides):
    (seed, _), (overrides, valid) = seed, overrides
    ok, out = attempt(
        "vae.create_vae", lambda: vae.create_vae(seed, **overrides), ["create_vae", "filters", "latent_dim", "bogus"]
    )
    expect(ok, valid, out, f"create_vae({overrides})")


@FEW
@given(st.fixed_dictionaries({**TRAINING, "learning_rate": pool([1e-3], [0.0, -1.0, float("nan"), "x"])}))
def test_train_fashion_vae_checks_before_training(arguments):
    kwargs = {k: v for k, (v, _) in arguments.items()}
    valid = all(ok_ for _, ok_ in arguments.values())
    with mock.patch.object(data, "fashion_mnist_for_training", _reached):
        try:
            ok, out = attempt("vae.train_fashion_vae", lambda: vae.train_fashion_vae(**kwargs, verbose=0), list(kwargs))
        except Reached:
            assert valid, f"train_fashion_vae({kwargs}) went on to training"
            return
    assert not valid, f"train_fashion_vae({kwargs}) refused valid arguments: {out}"


@SOME
@given(models("encoder", "classifier", "decoder"), arrays(), BATCH_SIZES)
def test_vae_encode(model, images, batch_size):
    (net, kind), (size, size_ok) = model, batch_size
    ok, out = attempt("vae.encode", lambda: vae.encode(net, images, size), ["encoder", "images", "batch_size"])
    expect(ok, kind == "encoder" and size_ok and fuzzkit.image_batch_ok(images), out, f"encode({kind})")
    if ok:
        n = fuzzkit.batch_shape(np.shape(images), (28, 28), 1)[0]
        assert out[0].shape == (n, 4) and out[1].shape == (n, 4)


@SOME
@given(models("decoder", "decoder6", "classifier", "encoder"), arrays((*LATENT_SHAPES, (4,), (2, 4), (2, 6)), fuzzkit.LATENT_KINDS),
       BATCH_SIZES)
def test_vae_decode(model, latents, batch_size):
    (net, kind), (size, size_ok) = model, batch_size
    ok, out = attempt("vae.decode", lambda: vae.decode(net, latents, size), ["decoder", "latents", "batch_size"])
    latent = {"decoder": 4, "decoder6": 6}.get(kind)
    expect(ok, latent is not None and size_ok and fuzzkit.latent_ok(latents, latent), out, f"decode({kind})")
    if ok:
        assert out.shape == (fuzzkit.latent_count(latents), 28, 28, 1) and 0 <= out.min() and out.max() <= 1


@SOME
@given(models("decoder", "decoder6", "encoder", "classifier"), models("encoder", "classifier", junk=False), arrays())
def test_vae_reconstruct(decoder, encoder, images):
    (dec, dec_kind), (enc, enc_kind) = decoder, encoder
    names = ["encoder", "decoder", "images"]
    valid = dec_kind == "decoder" and enc_kind == "encoder" and fuzzkit.image_batch_ok(images)
    ok, out = attempt("vae.reconstruct", lambda: vae.reconstruct(enc, dec, images), names)
    expect(ok, valid, out, f"reconstruct({enc_kind}, {dec_kind})")
    if ok:
        assert out.shape == (fuzzkit.batch_shape(np.shape(images), (28, 28), 1)[0], 28, 28, 1)
    ok, out = attempt("vae.reconstruction_errors", lambda: vae.reconstruction_errors(enc, dec, images), names)
    expect(ok, valid, out, "reconstruction_errors")
    if ok:
        assert np.all(np.isfinite(out)) and np.all(out >= 0)


@SOME
@given(models("decoder", "classifier", "encoder"), pool([1, 4], [0, -1, 1.5, True, "2"]), fuzzkit.SEEDS,
       pool([1.0, 0.5, 3], [0.0, -1.0, float("nan"), float("inf"), "1", None]))
def test_vae_sample(model, count, seed, std):
    (net, kind), args = model, [count, seed, std]
    ok, out = attempt(
        "vae.sample", lambda: vae.sample(net, *(v for v, _ in args)), ["decoder", "count", "seed", "std"]
    )
    expect(ok, kind == "decoder" and all(v for _, v in args), out, f"vae.sample({kind})")
    if ok:
        assert out.shape == (count[0], 28, 28, 1)


@FEW
@given(arrays(), arrays(), pool([2, 5], [1, 0, -2, 2.5, "3"]))
def test_vae_interpolate(start, end, steps):
    steps, steps_ok = steps
    enc, dec = fuzzkit.model("encoder"), fuzzkit.model("decoder")
    ok, out = attempt(
        "vae.interpolate", lambda: vae.interpolate(enc, dec, start, end, steps), ["start", "end", "steps"]
    )

    def one(x):
        shape = fuzzkit.batch_shape(np.shape(x), (28, 28), 1) if fuzzkit.image_batch_ok(x) else None
        return shape is not None and shape[0] == 1

    expect(ok, steps_ok and one(start) and one(end), out, "interpolate")
    if ok:
        assert out.shape == (steps, 28, 28, 1)


LOSS_SHAPES = ((2, 28, 28, 1), (2, 28, 28), (3, 4, 4, 1), (2,), (), (0, 4, 4, 1))


@SOME
@given(arrays(LOSS_SHAPES, random_shapes=False), arrays(LOSS_SHAPES, random_shapes=False))
def test_vae_loss_terms(a, b):
    ok, out = attempt(
        "vae.reconstruction_loss", lambda: vae.reconstruction_loss(a, b), ["images", "reconstructions"]
    )
    if ok:
        assert np.asarray(out).shape == (np.shape(a)[0],)
    ok, out = attempt("vae.kl_divergence", lambda: vae.kl_divergence(a, b), ["z_mean", "z_log_var"])
    if ok:
        assert np.asarray(out).shape == (np.shape(a)[0],)


# --------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------

FEATURE_SHAPES = ((50, 3), (4, 3), (50, 4), (3,), (50, 3, 1), (0, 3), (50, 0))
FEATURE_KINDS = ("normal", "int_ok", "bool", "nan", "inf", "complex", "str", "object", "ragged", "huge")


def _features_ok(x):
    a = fuzzkit.as_numpy(x)
    return (
        a is not None and a.dtype.kind in "buif" and a.ndim == 2 and a.shape[1] >= 1
        and a.shape[0] > a.shape[1] and bool(np.all(np.isfinite(a.astype(np.float64))))
    )


@SOME
@given(arrays(FEATURE_SHAPES, FEATURE_KINDS, random_shapes=False), arrays(FEATURE_SHAPES, FEATURE_KINDS, random_shapes=False))
def test_frechet_distance(a, b):
    ok, out = attempt("metrics.frechet_distance", lambda: metrics.frechet_distance(a, b), ["features_a", "features_b", "feature"])
    valid = _features_ok(a) and _features_ok(b) and np.shape(a)[1] == np.shape(b)[1]
    if ok or not valid:  # a degenerate but well-formed pair may be refused (covariance root)
        expect(ok, valid, out, "frechet_distance")
    if ok:
        assert math.isfinite(out) and out >= 0.0


@st.composite
def probabilities(draw):
    kind = draw(st.sampled_from(["softmax", "onehot", "unnormalised", "negative", "nan", "shape", "str"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n, k = draw(st.sampled_from([(20, 10), (2, 3), (1, 10), (5, 1), (0, 10), (5, 0)]))
    p = rng.dirichlet(np.ones(max(k, 1)), size=n)[:, :k] if k else np.zeros((n, 0))
    if kind == "onehot" and k:
        p = np.eye(k)[rng.integers(0, k, n)]
    elif kind == "unnormalised":
        p = p * 3.0
    elif kind == "negative" and p.size:
        p[0, 0] = -0.5
    elif kind == "nan" and p.size:
        p[0, 0] = np.nan
    elif kind == "shape":
        p = p[..., None]
    elif kind == "str":
        p = np.full((n, k), "x")
    return p


@given(probabilities(), pool([0.02, 0.0, 1.0], [-0.1, 1.5, float("nan"), "x"]))
def test_classifier_score_and_class_coverage(probs, min_share):
    min_share, share_ok = min_share
    ok, out = attempt("metrics.classifier_score", lambda: metrics.classifier_score(probs), ["probs"])
    p = probs.astype(np.float64) if probs.dtype.kind == "f" else None
    shaped = p is not None and p.ndim == 2 and p.shape[1] >= 1
    finite = shaped and bool(np.all(np.isfinite(p)))
    valid = finite and p.shape[0] >= 2 and bool(np.all(p >= 0)) and np.allclose(p.sum(axis=1), 1.0, atol=1e-3)
    expect(ok, valid, out, "classifier_score")
    if ok:
        assert 1.0 - 1e-9 <= out <= p.shape[1] + 1e-6
    ok, out = attempt(
        "metrics.class_coverage", lambda: metrics.class_coverage(probs, min_share), ["probs", "min_share"]
    )
    expect(ok, finite and p.shape[0] >= 1 and share_ok, out, "class_coverage")
    if ok:
        assert 0 <= out["covered"] <= p.shape[1] and abs(sum(out["shares"]) - 1.0) < 1e-9


NN_SHAPES = ((3, 4, 4), (2, 4, 4), (3, 5, 5), (4, 4), (3, 16), (0, 4, 4), (3,), (2, 4, 4, 1))


@SOME
@given(arrays(NN_SHAPES, random_shapes=False), arrays(NN_SHAPES, random_shapes=False), BATCH_SIZES)
def test_nearest_neighbour_distances(queries, references, batch_size):
    size, size_ok = batch_size
    ok, out = attempt(
        "metrics.nearest_neighbour_distances",
        lambda: metrics.nearest_neighbour_distances(queries, references, size),
        ["queries", "references", "batch_size"],
    )
    valid = size_ok and all(
        fuzzkit.unit_range_ok(x) and np.ndim(x) >= 2 for x in (queries, references)
    ) and math.prod(np.shape(queries)[1:]) == math.prod(np.shape(references)[1:])
    expect(ok, valid, out, "nearest_neighbour_distances")
    if ok:
        q = fuzzkit.unit_range_result(queries).reshape(len(queries), -1)
        r = fuzzkit.unit_range_result(references).reshape(len(references), -1)
        brute = np.sqrt(((q[:, None, :] - r[None, :, :]) ** 2).sum(-1)).min(axis=1)
        np.testing.assert_allclose(out[0], brute, atol=1e-3)


@SOME
@given(models("classifier", "classifier3", "generator", "encoder"), arrays(), BATCH_SIZES)
def test_features_and_probabilities(model, images, batch_size):
    (net, kind), (size, size_ok) = model, batch_size
    names = ["classifier", "images", "batch_size"]
    valid = kind.startswith("classifier") and size_ok and fuzzkit.image_batch_ok(images)
    ok, out = attempt("metrics.probabilities", lambda: metrics.probabilities(net, images, size), names)
    expect(ok, valid, out, f"probabilities({kind})")
    if ok:
        np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-4)
    ok, out = attempt("metrics.features", lambda: metrics.features(net, images, size), names)
    expect(ok, valid, out, f"features({kind})")
    if ok:
        assert out.shape == (len(fuzzkit.unit_range_result(images).reshape(-1, 28 * 28)), 8)


@FEW
@given(models("classifier", "generator"), pool([None, "dense"], ["nope", 3]))
def test_feature_extractor(model, layer):
    (net, kind), (name, name_ok) = model, layer
    if name == "dense" and kind == "classifier":
        name = next(l.name for l in net.layers if l.name.startswith("dense"))
    ok, out = attempt(
        "metrics.feature_extractor", lambda: metrics.feature_extractor(net, name), ["classifier", "layer"]
    )
    expect(ok, kind == "classifier" and name_ok, out, "feature_extractor")


@FEW
@given(arrays(((12, 28, 28), (4, 28, 28), (12, 28, 28, 1), (12, 32, 32)), random_shapes=False),
       arrays(((40, 8), (40, 5), (5, 8), (8,)), ("normal", "nan", "str"), random_shapes=False))
def test_judge(images, reference):
    net = fuzzkit.model("classifier")
    ok, out = attempt(
        "metrics.judge", lambda: metrics.judge(net, images, reference),
        ["classifier", "images", "reference_features"],
    )
    if ok:
        assert set(out) == {"frechet_distance", "classifier_score", "classes_covered", "largest_class_share"}
        assert all(math.isfinite(v) for v in out.values())


# --------------------------------------------------------------------------
# plots
# --------------------------------------------------------------------------

PLOT_SHAPES = ((2, 8, 8), (1, 8, 8, 1), (2, 8, 8, 3), (8, 8), (2, 8, 8, 2), (0, 8, 8), (3,), (2, 8, 8, 1, 1))


def _grid_ok(images, colour: bool) -> bool:
    a = fuzzkit.as_numpy(images)
    if not fuzzkit.unit_range_ok(images):
        return False
    shape = a.shape[:-1] if a.ndim == 4 and a.shape[-1] == 1 else a.shape
    return len(shape) == 3 or (colour and len(shape) == 4 and shape[-1] == 3)


@SOME
@given(arrays(PLOT_SHAPES, random_shapes=False), st.sampled_from([None, "match", ["one"], "ab", 5]),
       fuzzkit.POSITIVE_INTS, pool([1.0, 2], [0, -1.0, float("nan"), "big"]))
def test_show_images(images, titles, ncols, size):
    (ncols, ncols_ok), (size, size_ok) = ncols, size
    a = fuzzkit.as_numpy(images)
    n = a.shape[0] if a is not None and a.ndim else 0
    if titles == "match":
        titles = [str(i) for i in range(n)]
    titles_ok = titles is None or (isinstance(titles, list) and len(titles) == n)
    ok, out = attempt(
        "plots.show_images", lambda: plots.show_images(images, titles, ncols, size),
        ["images", "titles", "ncols", "size"],
    )
    valid = _grid_ok(images, colour=True) and ncols_ok and size_ok
    valid = valid and titles_ok
    expect(ok, valid, out, "show_images")
    if ok:
        assert len([ax for ax in out.axes if ax.images]) == n


@SOME
@given(arrays(PLOT_SHAPES, random_shapes=False), fuzzkit.POSITIVE_INTS, fuzzkit.NON_NEGATIVE_INTS)
def test_image_grid(images, ncols, padding):
    (ncols, ncols_ok), (padding, padding_ok) = ncols, padding
    if padding_ok and padding > 100:
        padding = 3
    ok, out = attempt(
        "plots.image_grid", lambda: plots.image_grid(images, ncols, padding), ["images", "ncols", "padding"]
    )
    expect(ok, _grid_ok(images, colour=False) and ncols_ok and padding_ok, out, "image_grid")
    if ok:
        n, h, w = np.shape(images)[:3]
        cols = min(ncols, n)
        rows = -(-n // cols)
        assert out.dtype == np.uint8 and out.shape == (rows * (h + padding) + padding, cols * (w + padding) + padding)


HISTORIES = pool(
    [{"loss": [1.0, 0.5], "accuracy": [0.5, 0.8]}, {"loss": [1.0, float("nan")]}, {"loss": [2.0], "val_loss": [2.5]}],
    [[1.0, 2.0], {"lr": [1.0]}, {"loss": []}, {"loss": ["a"]}, {"loss": 5}, {"loss": [[1, 2]]},
     {"loss": [1.0, 2.0], "val_loss": [1.0]}, None],
)


@FEW
@given(HISTORIES, st.sampled_from([("loss", "accuracy"), ("loss",), "loss"]))
def test_plot_history(history, wanted):
    history, valid = history
    ok, out = attempt("plots.plot_history", lambda: plots.plot_history(history, metrics=wanted), ["history"])
    expect(ok, valid, out, f"plot_history({history})")


@FEW
@given(arrays(((3, 3, 1, 4), (3, 3, 0, 4), (3, 3, 1, 0), (3, 3), (3, 3, 2, 40)), ("normal", "nan", "str", "complex", "int_ok"),
              random_shapes=False),
       fuzzkit.POSITIVE_INTS)
def test_plot_filters(kernel, max_filters):
    max_filters, count_ok = max_filters
    ok, out = attempt(
        "plots.plot_filters", lambda: plots.plot_filters(kernel, max_filters), ["kernel", "max_filters"]
    )
    a = fuzzkit.as_numpy(kernel)
    valid = count_ok and a is not None and a.dtype.kind in "iuf" and a.ndim == 4 and a.size > 0
    valid = valid and bool(np.all(np.isfinite(a.astype(np.float64))))
    expect(ok, valid, out, "plot_filters")


@FEW
@given(models("classifier", "generator"), arrays(), pool(["conv"], ["nope", 3, "probabilities"]), fuzzkit.POSITIVE_INTS)
def test_plot_feature_maps(model, image, layer, max_maps):
    (net, kind), (name, name_ok), (count, count_ok) = model, layer, max_maps
    if name == "conv" and kind == "classifier":
        name = next(l.name for l in net.layers if l.name.startswith("conv2d"))
    ok, out = attempt(
        "plots.plot_feature_maps", lambda: plots.plot_feature_maps(net, image, name, count),
        ["model", "image", "layer", "max_maps"],
    )
    expect(ok, kind == "classifier" and name_ok and count_ok and fuzzkit.image_batch_ok(image), out, "plot_feature_maps")


LABELS = ((6,), (5,), (0,), (2, 3), ())


@FEW
@given(arrays(LABELS, ("label", "int_ok", "normal", "nan", "str", "bool"), random_shapes=False),
       arrays(LABELS, ("label", "int_ok", "bool"), random_shapes=False),
       pool([("a", "b", "c"), [str(i) for i in range(40)], np.array(["x", "y"])], [["a"], "abc", None]))
def test_plot_confusion_matrix(y_true, y_pred, class_names):
    class_names, names_ok = class_names
    ok, out = attempt(
        "plots.plot_confusion_matrix", lambda: plots.plot_confusion_matrix(y_true, y_pred, class_names),
        ["y_true", "y_pred", "class_names"],
    )

    def labels_ok(y):
        a = fuzzkit.as_numpy([y] if _is_int(y) else y)  # one index: one image
        if a is None or a.dtype.kind not in "buif" or a.ndim != 1 or a.size == 0:
            return False
        f = a.astype(np.float64)
        if not np.all(np.isfinite(f)) or not np.all(f == np.round(f)):
            return False
        return bool(a.min() >= 0 and a.max() < len(class_names))

    valid = names_ok and labels_ok(y_true) and labels_ok(y_pred) and np.size(y_true) == np.size(y_pred)
    expect(ok, valid, out, "plot_confusion_matrix")


@FEW
@given(st.sampled_from(["grids", "floats", "sizes", "empty", "array", "rgb"]), pool([0.4], [0.0, -1.0, "x"]),
       fuzzkit.POSITIVE_INTS, st.sampled_from(["new", "exists", "exists+overwrite", "folder", "under a file",
                                               "not .gif"]))
def test_save_animation(tmp_path_factory, frames_kind, seconds, scale, target):
    (seconds, seconds_ok), (scale, scale_ok) = seconds, scale
    grid = np.zeros((10, 12), np.uint8)
    frames = {
        "grids": [grid, grid + 5], "floats": [grid / 255.0], "sizes": [grid, np.zeros((5, 5), np.uint8)],
        "empty": [], "array": np.stack([grid, grid]), "rgb": [np.zeros((10, 12, 3), np.uint8)],
    }[frames_kind]
    folder = tmp_path_factory.mktemp("gif")
    path = {"folder": folder, "under a file": folder / "file" / "a.gif", "not .gif": folder / "a.png"}.get(
        target, folder / "a.gif")
    (folder / "file").write_bytes(b"x")
    if target.startswith("exists"):
        path.write_bytes(b"the user's own file")
    ok, out = attempt(
        "plots.save_animation",
        lambda: plots.save_animation(frames, str(path), seconds, scale, overwrite=target == "exists+overwrite"),
        ["frames", "seconds_per_frame", "scale", "path"], clear_errors=(ValueError, TypeError, OSError),
    )
    valid = frames_kind in ("grids", "array", "rgb") and seconds_ok and scale_ok
    expect(ok, valid and target in ("new", "exists+overwrite"), out, f"save_animation({frames_kind}, {target})")
    if ok:
        assert path.stat().st_size > 0 and path.read_bytes()[:3] == b"GIF"
    elif target == "exists":
        assert path.read_bytes() == b"the user's own file", "a refused call changed the user's file"


# --------------------------------------------------------------------------
# store
# --------------------------------------------------------------------------

NAMES = pool(["tiny", "a.b-c_1"], ["", ".hidden", "../x", "a/b", "a\\b", "nul\x00", 5, None, "é", "x" * 300])
CONFIGS = pool(
    [{}, {"a": 1}, {"nested": {"x": [1, 2]}, "t": (1, 2.5), "n": None}, {"np": np.int64(3), "p": Path("/x")}],
    [[1, 2], None, "cfg", {1: "a", "b": 2}, {"obj": object()}, {"f": print}, {"nested": {"m": keras.Input}}],
)


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    with mock.patch.dict(os.environ, {store.MODELS_ENV: str(folder)}):
        yield folder


def _tiny_model():
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


@given(NAMES, CONFIGS)
def test_store_paths(model_folder, name, config):
    (name, name_ok), (config, config_ok) = name, config
    ok, out = attempt("store.model_paths", lambda: store.model_paths(name, config), ["name", "config"])
    expect(ok, name_ok and config_ok, out, f"model_paths({name!r}, {config!r})")
    if ok:
        assert all(path.parent == model_folder for path in out)
    ok, out = attempt("store.config_key", lambda: store.config_key(config), ["config"])
    expect(ok, config_ok, out, "config_key")


RECORDS = pool([{}, {"accuracy": 0.5}], [None, [1], "r"])
ARRAYS = pool([None, {}, {"frames": np.zeros((2, 3), np.uint8)}],
              [{"file": np.zeros(2)}, {"x": np.array([None], dtype=object)}, {1: np.zeros(2)}, {"x y": np.zeros(2)}, [1]])


@FEW
@given(models("classifier", junk=True), RECORDS, ARRAYS)
def test_store_save_and_load_or_train(model_folder, model, record, arrays_):
    (net, kind), (record, record_ok), (extra, extra_ok) = model, record, arrays_
    if kind != "junk":
        net = _tiny_model()
    config = {"case": fuzzkit.CASES["store.save"]}
    ok, out = attempt(
        "store.save", lambda: store.save(net, "fuzz", config, record, extra), ["model", "record", "arrays"]
    )
    expect(ok, kind != "junk" and record_ok and extra_ok, out, "save")
    if ok:
        loaded, stored = store.load("fuzz", config)
        assert isinstance(loaded, keras.Model) and ("arrays" in stored) == bool(extra)

    def train():
        return net, (dict(record, arrays=extra) if isinstance(record, dict) and extra is not None else record)

    config = {"case": fuzzkit.CASES["store.load_or_train"], "train": True}
    ok, out = attempt(
        "store.load_or_train", lambda: store.load_or_train("fuzz", config, train), ["train", "model", "record", "arrays"]
    )
    expect(ok, kind != "junk" and record_ok and extra_ok, out, "load_or_train")
    ok, out = attempt("store.load_or_train", lambda: store.load_or_train("fuzz", config, "not callable"), ["train"])
    expect(ok, False, out, "load_or_train(train=str)")


# --------------------------------------------------------------------------
# sample (the command line)
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory):
    return fuzzkit.save_models(tmp_path_factory.mktemp("sample"))


@FEW
@given(st.sampled_from(["generator", "classifier", "junk", "missing", "folder", "int"]), fuzzkit.POSITIVE_INTS,
       fuzzkit.SEEDS, st.sampled_from(["out.png", "out.npy", "out.txt"]))
def test_sampling_cli_functions(saved_files, which, count, seed, out_name):
    (count, count_ok), (seed, seed_ok) = count, seed
    path = {"missing": saved_files / "none.keras", "folder": saved_files, "int": 5}.get(which, saved_files / f"{which}.keras")
    ok, generator = attempt(
        "sample.load_generator", lambda: sample.load_generator(path), ["path", "generator", str(path)]
    )
    expect(ok, which == "generator", generator, f"load_generator({which})")
    if not ok:
        return
    out = saved_files / f"{fuzzkit.CASES['sample.write_samples']}-{out_name}"
    count = min(count, 50) if count_ok else count
    ok, written = attempt(
        "sample.write_samples", lambda: sample.write_samples(generator, out, count, seed),
        ["count", "seed", "out"],
    )
    expect(ok, count_ok and seed_ok and out_name != "out.txt", written, "write_samples")
    if ok and out.suffix == ".npy":
        assert np.load(out).shape == (count, 28, 28, 1)


CLI_TOKENS = ["--out", "OUT", "--count", "3", "-1", "x", "--seed", "--ncols", "0", "--force", "--generator", "GEN", "--bogus"]


@FEW
@given(st.lists(st.sampled_from(CLI_TOKENS), max_size=8))
def test_sampling_cli_main(saved_files, model_folder, argv):
    argv = [
        str(saved_files / f"cli-{fuzzkit.CASES['sample.main']}.png") if t == "OUT"
        else str(saved_files / "generator.keras") if t == "GEN" else t
        for t in argv
    ]
    fuzzkit.CASES["sample.main"] += 1
    try:
        with fuzzkit.time_limit(fuzzkit.TIME_LIMIT):
            code = sample.main(argv)
    except SystemExit as exit_:  # argparse: a usage message and exit status 2
        code = exit_.code
    assert code in (0, 2), f"main({argv}) returned {code}"
    if code == 2:
        fuzzkit.REJECTED["sample.main"] += 1


# --------------------------------------------------------------------------
# checks: the shared checks themselves, against simple reference answers
# --------------------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
    st.text(max_size=3), st.sampled_from([np.int64(3), np.float32(0.5), np.bool_(True), 2**40, -1, 0, 1, 30, 1.0]),
)


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))


@given(NUMBERS)
def test_check_numbers(value):
    ok, out = attempt("checks.check_seed", lambda: checks.check_seed(value, "seed"), ["seed"])
    expect(ok, _is_int(value) and 0 <= value <= 2**32 - 1, out, f"check_seed({value!r})")
    ok, out = attempt("checks.check_fraction", lambda: checks.check_fraction(value, "dropout"), ["dropout"])
    expect(ok, _is_real(value) and math.isfinite(value) and 0 <= value < 1, out, f"check_fraction({value!r})")
    if not ok and _is_real(value) and 1 < value <= 100:
        assert "percentage" in str(out)
    ok, out = attempt("checks.check_flag", lambda: checks.check_flag(value, "switch"), ["switch"])
    expect(ok, isinstance(value, (bool, np.bool_)), out, f"check_flag({value!r})")
    ok, out = attempt(
        "checks.check_count", lambda: checks.check_count(value, "count", item_bytes=3136), ["count"]
    )
    fits = _is_int(value) and 1 <= value and value * 3136 <= checks.physical_memory_bytes() // 2
    expect(ok, fits, out, f"check_count({value!r})")


LABEL_VALUES = st.one_of(
    arrays(((5,), (5, 1), (5, 3), (0,), (2, 2, 2), ()), ("label", "int_ok", "unit64", "normal", "nan", "str", "bool",
                                                          "object", "ragged"), random_shapes=False),
    st.lists(st.sampled_from(["Coat", "bag", "Cape", 3, "T-shirt/top"]), min_size=1, max_size=4),
    st.sampled_from([3, -1, 12, "Coat", "Cape", 2.0, 2.5, None, True]),
)


def _labels_reference(values, num_classes, names):
    """The int64 indices as_class_indices must return, or None where it must refuse."""
    lowered = [n.lower() for n in names] if names is not None else None
    if isinstance(values, str):
        values = [values]
    if isinstance(values, list) and any(isinstance(v, str) for v in values):
        known = [
            lowered.index(v.lower()) if isinstance(v, str) and lowered is not None and v.lower() in lowered[:num_classes]
            else v if _is_int(v) and 0 <= v < num_classes else None
            for v in values
        ]
        return None if None in known else np.array(known)
    if isinstance(values, (bool, np.bool_)) or values is None:
        return None
    a = fuzzkit.as_numpy([values] if _is_int(values) else values)
    if a is None or a.dtype.kind not in "biuf" or a.size == 0:
        return None
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1 or not np.all(np.isfinite(a.astype(float))) or not np.all(a == np.round(a)):
        return None
    a = a.astype(np.int64)
    return a if a.min() >= 0 and a.max() < num_classes else None


@given(LABEL_VALUES, st.sampled_from([None, data.FASHION_MNIST_CLASSES]))
def test_as_class_indices(values, names):
    ok, out = attempt(
        "checks.as_class_indices", lambda: checks.as_class_indices(values, 10, "labels", class_names=names),
        ["labels"],
    )
    reference = _labels_reference(values, 10, names)
    expect(ok, reference is not None, out, f"as_class_indices({values!r})")
    a = fuzzkit.as_numpy(values)
    if ok:
        np.testing.assert_array_equal(out, reference)
    elif a is not None and a.dtype.kind in "biuf" and a.ndim == 2 and a.shape[1] > 1:
        assert "np.argmax" in str(out), "probabilities must be answered with the argmax fix"


def _ambiguous_labels(labels) -> bool:
    """Whole-valued float or boolean labels: one function may take them, another refuse them."""
    a = fuzzkit.as_numpy(labels)
    return a is not None and a.dtype.kind in "bf" and a.size > 0


# --------------------------------------------------------------------------
# configurations: every setting of the book's configurations, mutated
# --------------------------------------------------------------------------

#: Valid and invalid values for a setting, by kind (see checks.check_config).
SETTING_VALUES = {
    "count": ([1, 7], [0, -1, 2.5, True, "3", None, float("nan")]),
    "seed": ([0, 7, 2**32 - 1], [-1, 2**32, 1.5, "0", None]),
    "rate": ([1e-4, 3e-3], [0.0, -1e-3, float("nan"), float("inf"), "fast", None]),
    "fraction": ([0.0, 0.5], [1.0, -0.1, 30, float("nan"), "0.5"]),
    "widths": ([(4, 4)], [(4.0, 4), (0, 4), "44", 4, None]),
    "flag": ([True, False], [1, "yes", None]),
}


def _kind_of(key: str, value) -> str | None:
    if key.endswith("seed"):
        return "seed"
    if key.endswith("learning_rate"):
        return "rate"
    if key in ("beta_1", "beta_2", "decay_from") or key.endswith("dropout"):
        return "fraction"
    if key.endswith("widths"):
        return "widths"
    if isinstance(value, bool):
        return "flag"
    if key in ("batch_size", "epochs", "latent_dim", "embedding_dim"):
        return "count"
    return None


@st.composite
def mutated_configs(draw, template):
    """``(config, valid)``: ``template`` with one or two settings changed, or broken as a whole."""
    config, valid = dict(template), True
    how = draw(st.sampled_from(["settings", "settings", "settings", "missing", "unknown", "object", "type"]))
    if how == "missing":
        config.pop(draw(st.sampled_from(sorted(template))))
        return config, False
    if how == "unknown":
        config[draw(st.sampled_from(["learning_rat", "lr", "epoch"]))] = 1
        return config, False
    if how == "object":
        return {**config, draw(st.sampled_from(sorted(template))): object()}, False
    if how == "type":
        return draw(st.sampled_from([None, [1, 2], "FASHION_GAN"])), False
    keys = [k for k in sorted(template) if _kind_of(k, template[k])]
    for key in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)):
        good, bad = SETTING_VALUES[_kind_of(key, template[key])]
        value, ok = draw(pool(good, bad))
        config[key], valid = value, valid and ok
    return config, valid


BUILDERS = {"gan.build_fashion_gan": gan.FASHION_GAN, "cgan.build_conditional_gan": cgan.FASHION_CGAN}


@FEW
@pytest.mark.parametrize("builder", sorted(BUILDERS))
@given(data_=st.data())
def test_build_gan_from_config(builder, data_):
    template = BUILDERS[builder]
    config, valid = data_.draw(mutated_configs(template))
    build = getattr({"gan": gan, "cgan": cgan}[builder.split(".")[0]], builder.split(".")[1])
    ok, out = attempt(builder, lambda: build(config), ["config", *template])
    expect(ok, valid, out, f"{builder}({config})")


@FEW
@given(st.sampled_from([gan.FASHION_GAN, cgan.FASHION_CGAN, cnn.FASHION_TRAINING, vae.FASHION_VAE_TRAINING]).flatmap(
    lambda template: st.tuples(st.just(template), mutated_configs(template))))
def test_check_config(case):
    template, (config, valid) = case
    ok, out = attempt("checks.check_config", lambda: checks.check_config(config, template), ["config"])
    expect(ok, valid, out, f"check_config({config})")


@FEW
@given(st.sampled_from(["train_fashion_gan", "train_conditional_gan"]).flatmap(
    lambda name: st.tuples(st.just(name), mutated_configs(gan.FASHION_GAN if name == "train_fashion_gan"
                                                          else cgan.FASHION_CGAN))))
def test_training_configs_are_checked_before_training(case):
    name, (config, valid) = case
    train = getattr(gan if name == "train_fashion_gan" else cgan, name)
    with mock.patch.object(data, "load_fashion_mnist", _reached), \
            mock.patch.object(data, "fashion_mnist_for_training", _reached):
        try:
            ok, out = attempt(f"{name}(config)", lambda: train(config), ["config", *(config or {})])
        except Reached:
            assert valid, f"{name}({config}) went on to training"
            return
    assert not valid, f"{name}({config}) refused a valid configuration: {out}"


# --------------------------------------------------------------------------
# gan and cgan: the players, in the right order and of matching sizes
# --------------------------------------------------------------------------


@SOME
@given(models("generator", "generator16", "discriminator", "classifier", "cgenerator"),
       models("discriminator", "generator", "classifier", "cdiscriminator"),
       pool([None, "match"], [64, 0, -1, 2.5, "8"]), fuzzkit.SEEDS)
def test_gan_players(generator, discriminator, latent_dim, seed):
    (g, g_kind), (d, d_kind), (latent, latent_ok), (seed, seed_ok) = generator, discriminator, latent_dim, seed
    if latent == "match":
        latent = {"generator": 8, "generator16": 16}.get(g_kind, 8)
    kwargs = {} if latent is None else {"latent_dim": latent}
    ok, out = attempt(
        "gan.GAN", lambda: gan.GAN(g, d, seed=seed, **kwargs), ["generator", "discriminator", "latent_dim", "seed"]
    )
    valid = g_kind in ("generator", "generator16") and d_kind == "discriminator" and latent_ok and seed_ok
    expect(ok, valid, out, f"GAN({g_kind}, {d_kind}, latent_dim={latent})")


@SOME
@given(models("cgenerator", "generator", "cdiscriminator"), models("cdiscriminator", "discriminator", "cgenerator"),
       pool([10], [3, 0, 2.5, None]), fuzzkit.SEEDS)
def test_conditional_gan_players(generator, discriminator, num_classes, seed):
    (g, g_kind), (d, d_kind), (classes, classes_ok), (seed, seed_ok) = generator, discriminator, num_classes, seed
    ok, out = attempt(
        "cgan.ConditionalGAN", lambda: cgan.ConditionalGAN(g, d, num_classes=classes, seed=seed),
        ["generator", "discriminator", "num_classes", "seed"],
    )
    valid = g_kind == "cgenerator" and d_kind == "cdiscriminator" and classes_ok and seed_ok
    expect(ok, valid, out, f"ConditionalGAN({g_kind}, {d_kind})")


CGAN_LABELS = st.one_of(
    arrays(((3,), (3, 1), (3, 10), (0,), ()), ("label", "int_ok", "unit64", "nan", "str", "bool"), random_shapes=False),
    st.lists(st.sampled_from(["Coat", "bag", "Cape", 3, 12]), min_size=1, max_size=3),
    st.sampled_from([3, 12, -1, "Coat", "Cape", 2.5, None]),
)


@SOME
@given(models("cgenerator", "generator", "classifier"), CGAN_LABELS,
       st.one_of(st.none(), arrays(((3, 8), (1, 8), (3, 4), (8,)), fuzzkit.LATENT_KINDS, random_shapes=False)),
       fuzzkit.SEEDS)
def test_cgan_generate(model, labels, noise, seed):
    (net, kind), (seed, seed_ok) = model, seed
    ok, out = attempt(
        "cgan.generate", lambda: cgan.generate(net, labels, noise, seed), ["generator", "labels", "noise", "seed"]
    )
    reference = _labels_reference(labels, 10, data.FASHION_MNIST_CLASSES)
    # The seed is checked even when noise is given (a wrong one is a mistake either way).
    valid = kind == "cgenerator" and reference is not None and seed_ok
    if valid and noise is not None:
        valid = fuzzkit.latent_ok(noise, 8) and fuzzkit.latent_count(noise) == len(reference)
    if not (valid and _ambiguous_labels(labels)):
        expect(ok, valid, out, f"cgan.generate({kind}, {labels!r})")
    if ok:
        assert out.shape == (len(reference), 28, 28, 1) and 0.0 <= out.min() and out.max() <= 1.0


@FEW
@given(models("cgenerator", "generator"), pool([1, 2], [0, -1, 1.5, 10**13]), fuzzkit.SEEDS,
       st.sampled_from([None, [1, 2], ["Coat"], [12], "Bag"]))
def test_cgan_sample_classes(model, per_class, seed, classes):
    (net, kind), (per_class, count_ok), (seed, seed_ok) = model, per_class, seed
    ok, out = attempt(
        "cgan.sample_classes", lambda: cgan.sample_classes(net, per_class, seed, classes),
        ["generator", "per_class", "seed", "classes"],
    )
    classes_ok = classes is None or _labels_reference(classes, 10, data.FASHION_MNIST_CLASSES) is not None
    expect(ok, kind == "cgenerator" and count_ok and seed_ok and classes_ok, out, f"sample_classes({kind})")
    if ok:
        wanted = 10 if classes is None else len(np.atleast_1d(classes))
        assert out[0].shape == (wanted * per_class, 28, 28, 1) and len(out[1]) == wanted * per_class


@FEW
@given(models("classifier", "classifier3", "generator"), arrays(((4, 28, 28), (4, 28, 28, 1), (3, 28, 28), (4, 1, 28, 28)),
                                                                ("uint8", "unit32", "scaled255"), random_shapes=False),
       CGAN_LABELS)
def test_cgan_class_match_and_spread(model, images, labels):
    net, kind = model
    ok, out = attempt(
        "cgan.class_match", lambda: cgan.class_match(net, images, labels), ["judge", "model", "images", "labels"]
    )
    if ok:
        assert 0.0 <= out["overall"] <= 1.0
        assert kind.endswith("classifier") or kind == "classifier3"
    ok, out = attempt("cgan.class_spread", lambda: cgan.class_spread(images, labels), ["images", "labels"])
    if ok:
        assert out.shape == (10,)


@FEW
@given(arrays(((6, 28, 28), (6, 28, 28, 1), (6, 32, 32)), ("uint8", "unit32", "scaled255"), random_shapes=False),
       CGAN_LABELS, pool([1, 2], [0, -1, 1.5, 100]), fuzzkit.SEEDS)
def test_cgan_labelled_dataset(images, labels, batch_size, seed):
    (size, size_ok), (seed, seed_ok) = batch_size, seed
    ok, out = attempt(
        "cgan.labelled_dataset", lambda: cgan.labelled_dataset(images, labels, size, seed),
        ["images", "labels", "batch_size", "seed"],
    )
    reference = _labels_reference(labels, 10, data.FASHION_MNIST_CLASSES)
    valid = size_ok and seed_ok and fuzzkit.image_batch_ok(images) and reference is not None
    valid = valid and len(reference) == fuzzkit.batch_shape(np.shape(images), (28, 28), 1)[0] and size <= len(reference)
    if not (valid and _ambiguous_labels(labels)):
        expect(ok, valid, out, "labelled_dataset")


@FEW
@given(pool([8], [0, -1, 2.5]), pool([10], [1, 0, 2.5]), pool([4], [0, 4.0]),
       pool([(8, 4)], [(8.0, 4), (0, 4), "84", None]))
def test_conditional_networks(latent_dim, num_classes, embedding_dim, widths):
    args = [latent_dim, num_classes, embedding_dim, widths]
    values = [v for v, _ in args]
    ok, out = attempt(
        "cgan.create_conditional_generator", lambda: cgan.create_conditional_generator(*values),
        ["latent_dim", "num_classes", "embedding_dim", "widths"],
    )
    expect(ok, all(v for _, v in args), out, "create_conditional_generator")
    ok, out = attempt(
        "cgan.create_conditional_discriminator",
        lambda: cgan.create_conditional_discriminator(values[1], widths=values[3]), ["num_classes", "widths"],
    )
    expect(ok, num_classes[1] and widths[1], out, "create_conditional_discriminator")


@FEW
@given(pool([1, 3], [0, -1, 1.5, 7000]), fuzzkit.SEEDS)
def test_cgan_labelled_subset(per_class, seed):
    (per_class, count_ok), (seed, seed_ok) = per_class, seed
    ok, out = attempt(
        "cgan.labelled_subset", lambda: cgan.labelled_subset(per_class, seed), ["per_class", "seed"]
    )
    expect(ok, count_ok and seed_ok, out, "labelled_subset")
    if ok:
        assert out[0].shape == (10 * per_class, 28, 28) and np.bincount(out[1]).tolist() == [per_class] * 10


@FEW
@given(fuzzkit.POSITIVE_INTS, fuzzkit.SEEDS)
def test_class_frames_callback(rows, seed):
    (rows, rows_ok), (seed, seed_ok) = rows, seed
    ok, out = attempt("cgan.ClassFrames", lambda: cgan.ClassFrames(rows, seed), ["rows", "seed"])
    expect(ok, rows_ok and seed_ok, out, "ClassFrames")


# --------------------------------------------------------------------------
# apps: codes, signs, cells
# --------------------------------------------------------------------------

DIGITS, DIGIT_LABELS = data.load_digits_images()
CODE_ARGUMENTS = {
    "count": ([0, 3], [-1, 2.5, True, "3", None, 10**13]),
    "length": ([1, 3], [0, -1, 1.5, None]),
    "width": ([64], [0, 10, 64.0, "64"]),
    "height": ([12, 9], [0, 12.5]),  # 9: too low for a jitter of 2 (checked below)
    "gap": ([(1, 3), (-2, 3), [0, 0]], [(3, 1), (-5, 1), 2, (1.5, 3), ("a", 2), (1, 2, 3)]),
    "jitter": ([0, 2], [-1, 1.5, None]),
    "noise": ([0.0, 0.03], [-0.1, float("nan"), float("inf"), 2.0, "0.1"]),
    "seed": ([0, 9], [-1, 2**32, 1.5, None]),
}


@st.composite
def code_calls(draw):
    kwargs, valid = fuzzkit.draw_arguments(draw, CODE_ARGUMENTS, {"count": 3, "length": 3})
    which = draw(st.sampled_from(["digits", "digits", "x16", "28x28", "names", "labels12", "short", "empty"]))
    images, labels = DIGITS[:20], DIGIT_LABELS[:20]
    images, labels = {
        "x16": (images * 16, labels), "28x28": (np.zeros((20, 28, 28)), labels),
        "names": (images, [str(v) for v in labels]), "labels12": (images, np.full(20, 12)),
        "short": (images, labels[:5]), "empty": (images[:0], labels[:0]),
    }.get(which, (images, labels))
    return images, labels, kwargs, valid and which == "digits"


@SOME
@given(code_calls())
def test_compose_codes(case):
    images, labels, kwargs, valid = case
    ok, out = attempt(
        "codes.compose_codes", lambda: codes.compose_codes(images, labels, **kwargs),
        ["images", "labels", *CODE_ARGUMENTS],
    )
    if valid:  # impossible combinations (a gap too wide for the canvas) are refused too
        height, jitter = kwargs.get("height", 12), kwargs.get("jitter", 2)
        gap_max = kwargs.get("gap", (1, 3))[1]
        valid = height >= 8 + 2 * jitter and kwargs.get("width", 64) >= codes.min_code_width(kwargs["length"], gap_max)
    expect(ok, valid, out, f"compose_codes({kwargs})")
    if ok:
        canvases, truth = out
        assert canvases.shape == (kwargs["count"], kwargs.get("height", 12), kwargs.get("width", 64))
        assert truth.shape == (kwargs["count"], kwargs["length"]) and canvases.dtype == np.float32
        assert np.all(np.isfinite(canvases)) and np.all((0.0 <= canvases) & (canvases <= 1.0))


CANVASES = arrays(((12, 40), (12, 8), (2, 12, 40), (40,), (0, 5)), ("unit32", "unit64", "scaled255", "nan", "str",
                                                                    "complex", "bool", "uint8"), random_shapes=False)


@SOME
@given(CANVASES, pool([None, 1, 3], [0, -1, 1.5, "2"]), pool([0.25, 1], [0.0, -0.5, 2.0, float("nan")]))
def test_segment_and_cut_codes(canvas, expected, ink):
    (expected, expected_ok), (ink, ink_ok) = expected, ink
    a = fuzzkit.as_numpy(canvas)
    canvas_ok = (
        a is not None and a.dtype.kind in "bf" and a.ndim == 2 and a.size > 0
        and bool(np.all(np.isfinite(a.astype(float)))) and a.min() >= 0 and a.max() <= 1
    )
    ok, spans = attempt(
        "codes.segment_code", lambda: codes.segment_code(canvas, expected, ink), ["canvas", "expected", "ink"]
    )
    expect(ok, canvas_ok and expected_ok and ink_ok, spans, "segment_code")
    if not ok:
        return
    ok, pieces = attempt("codes.cut_digits", lambda: codes.cut_digits(canvas, spans), ["canvas", "spans"])
    expect(ok, True, pieces, "cut_digits")
    assert pieces.shape == (len(spans), 8, 8) and np.all(np.isfinite(pieces))
    for bad in ([(5, 3)], [(0, 10**6)], "0,3", [(0.5, 3)], [(1,)]):
        ok, out = attempt("codes.cut_digits", lambda: codes.cut_digits(canvas, bad), ["spans"])
        expect(ok, False, out, f"cut_digits(spans={bad!r})")


@FEW
@given(arrays(((8, 8), (5, 12), (2, 8, 8), (0, 0)), ("unit32", "scaled255", "nan", "str", "uint8"), random_shapes=False),
       pool([8, 4], [3, 0, 8.0, 10**6]), pool([0.25], [0.0, float("nan"), 1.5]))
def test_center_digit(image, size, ink):
    (size, size_ok), (ink, ink_ok) = size, ink
    ok, out = attempt("codes.center_digit", lambda: codes.center_digit(image, size, ink), ["image", "size", "ink"])
    a = fuzzkit.as_numpy(image)
    image_ok = (
        a is not None and a.dtype.kind in "uf" and a.ndim == 2 and a.size > 0
        and bool(np.all(np.isfinite(a.astype(float)))) and a.min() >= 0 and a.max() <= 1
    )
    expect(ok, image_ok and size_ok and ink_ok, out, "center_digit")
    if ok:
        assert out.shape == (size, size) and out.dtype == np.float32


SIGN_ARGUMENTS = {
    "size": ([16, 20], [15, 0, 16.0, "32", None, 10**6]),
    "seed": ([0, 5], [-1, 2**32, 1.5]),
    "occlusion": ([0.0, 0.6], [-0.1, 0.7, float("nan"), "0.3"]),
    "clutter": ([0, 3], [-1, 1.5, 10**9]),
    "rotation": ([0.0, 45], [-1.0, 90, float("nan")]),
    "clean": ([True, False], [1, "yes", None]),
}


@st.composite
def sign_calls(draw):
    kwargs = {}
    what, ok = draw(pool([("count", 3), ("count", 0), ("labels", ["stop", 8]), ("labels", [])],
                         [("count", -1), ("count", 2.5), ("count", 10**13), ("labels", "stop"), ("labels", [9]),
                          ("labels", ["roundabout"]), ("labels", [1.5]), ("both", 0), ("neither", 0), ("labels", 5)]))
    if what[0] == "both":
        kwargs = {"count": 2, "labels": [0]}
    elif what[0] != "neither":
        kwargs[what[0]] = what[1]
    return fuzzkit.draw_arguments(draw, SIGN_ARGUMENTS, kwargs, ok, min_size=0)


@SOME
@given(sign_calls())
def test_render_signs(case):
    kwargs, valid = case
    ok, out = attempt("signs.render_signs", lambda: signs.render_signs(**kwargs),
                      ["count", "labels", "sign class", *SIGN_ARGUMENTS])
    expect(ok, valid, out, f"render_signs({kwargs})")
    if ok:
        images, labels = out
        size = kwargs.get("size", 32)
        assert images.shape == (len(labels), size, size, 3) and images.dtype == np.float32
        assert np.all(np.isfinite(images)) and np.all((0.0 <= images) & (images <= 1.0))


IHC = np.asarray(__import__("skimage.data", fromlist=["immunohistochemistry"]).immunohistochemistry())[:64, :64]


@FEW
@given(st.sampled_from(["uint8", "unit", "int64", "scaled255", "gray", "channels_first", "rgba", "nan", "str", "empty"]))
def test_stain_channels(kind):
    rgb = {
        "uint8": IHC, "unit": IHC / 255.0, "int64": IHC.astype(np.int64), "scaled255": IHC.astype(float),
        "gray": IHC[..., 0], "channels_first": np.moveaxis(IHC, -1, 0), "rgba": np.dstack([IHC, IHC[..., :1]]),
        "nan": np.full((4, 4, 3), np.nan), "str": np.full((4, 4, 3), "x"), "empty": np.zeros((0, 4, 3)),
    }[kind]
    ok, out = attempt("cells.stain_channels", lambda: cells.stain_channels(rgb), ["rgb"])
    expect(ok, kind in ("uint8", "unit", "int64"), out, f"stain_channels({kind})")
    if ok:
        reference = cells.stain_channels(IHC)
        np.testing.assert_allclose(out[0], reference[0], atol=1e-5)  # the same answer for every valid form


@FEW
@given(st.sampled_from(["channel", "scaled255", "rgb", "nan", "str"]),
       pool([0, 1.0, 2], [-1.0, float("nan"), "1"]), pool([None, 0.3], [-0.1, 1.5, float("nan")]),
       pool([1, 20], [0, 2.5, None]), pool([1, 6], [0, -1, 6.0]))
def test_detect_nuclei(kind, sigma, threshold, min_area, min_distance):
    channel = {"channel": cells.stain_channels(IHC)[0], "nan": np.full((8, 8), np.nan), "str": np.full((8, 8), "x")}.get(kind)
    if kind == "scaled255":
        channel = cells.stain_channels(IHC)[0] * 255
    elif kind == "rgb":
        channel = IHC / 255.0
    args = [sigma, threshold, min_area, min_distance]
    ok, out = attempt(
        "cells.detect_nuclei",
        lambda: cells.detect_nuclei(channel, sigma=sigma[0], threshold=threshold[0], min_area=min_area[0],
                                    min_distance=min_distance[0]),
        ["hematoxylin", "sigma", "threshold", "min_area", "min_distance"],
    )
    expect(ok, kind == "channel" and all(v for _, v in args), out, "detect_nuclei")
    if ok:
        assert out.ndim == 2 and out.shape[1] == 2


POINTS = st.sampled_from([
    ([[1.0, 2.0], [5, 5]], True), ([], True), (np.zeros((0, 2)), True), ([[1, 2, 3]], False),
    ([["a", "b"]], False), ([[np.nan, 1]], False), (5, False), ([[1, 2], [3]], False),
])


@FEW
@given(POINTS, POINTS, pool([6, 0.5], [0, -1, float("nan"), "6"]),
       pool([(0, 10, 0, 10), [330, 500, 168, 250]], [(5, 1, 0, 1), (0, 1), "all", (0, float("nan"), 0, 1)]))
def test_points(predicted, reference, radius, region):
    (pred, pred_ok), (ref, ref_ok), (radius, radius_ok), (region, region_ok) = predicted, reference, radius, region
    ok, out = attempt(
        "cells.match_points", lambda: cells.match_points(pred, ref, radius=radius), ["predicted", "reference", "radius"]
    )
    expect(ok, pred_ok and ref_ok and radius_ok, out, "match_points")
    if ok:
        assert 0.0 <= out["precision"] <= 1.0 and 0.0 <= out["recall"] <= 1.0
    ok, out = attempt("cells.in_region", lambda: cells.in_region(pred, region), ["points", "region"])
    expect(ok, pred_ok and region_ok, out, "in_region")


@FEW
@given(st.sampled_from(["channel", "scaled255", "shapes", "nan"]), pool([8], [0, 8.5, 100]), pool([4], [0, -1]),
       pool([32], [4, 1000]), pool([0.5, 1.0], [0.0, 1.5, float("nan")]))
def test_tissue_patches(kind, patch, stride, block, share):
    hematoxylin, dab = cells.stain_channels(IHC)
    channel = {"scaled255": hematoxylin * 255, "shapes": hematoxylin[:32], "nan": hematoxylin * np.nan}.get(kind, hematoxylin)
    args = [patch, stride, block, share]
    ok, out = attempt(
        "cells.tissue_patches",
        lambda: cells.tissue_patches(channel, dab, patch=patch[0], stride=stride[0], block=block[0],
                                     positive_share=share[0]),
        ["channel", "dab", "patch", "stride", "block", "positive_share"],
    )
    expect(ok, kind == "channel" and all(v for _, v in args), out, "tissue_patches")
    if ok:
        images, labels, blocks = out
        assert images.shape[1:] == (patch[0], patch[0]) and len(images) == len(labels) == len(blocks)


# --------------------------------------------------------------------------
# store: results without a model
# --------------------------------------------------------------------------


@FEW
@given(NAMES, CONFIGS, st.sampled_from(["dict", "arrays", "pickled", "not a dict", "not callable"]))
def test_store_load_or_compute(model_folder, name, config, result):
    (name, name_ok), (config, config_ok) = name, config
    if isinstance(config, dict):  # a new entry each time (an invalid config stays invalid)
        config = {**config, "__case": fuzzkit.CASES["store.load_or_compute"]}
    outcome = {
        "dict": {"accuracy": 0.5}, "arrays": {"arrays": {"table": np.zeros((2, 2))}},
        "pickled": {"arrays": {"table": np.array([None], dtype=object)}}, "not a dict": [1, 2],
    }.get(result)
    compute = "compute" if result == "not callable" else (lambda: outcome)
    ok, out = attempt(
        "store.load_or_compute", lambda: store.load_or_compute(name, config, compute),
        ["name", "config", "compute", "arrays"],
    )
    expect(ok, name_ok and config_ok and result in ("dict", "arrays"), out, f"load_or_compute({result})")
    if ok:
        again = store.load_or_compute(name, config, lambda: 1 / 0)
        assert again["loaded_from_store"] and ("arrays" in again) == (result == "arrays")
