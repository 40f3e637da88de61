"""Named cases of each kind of mistake that issue 32 found getting an unclear answer.

Every case is one plausible mistake; it must end in a clear error (raised by
visionbook's own checks, of the right type, naming the argument and the
fix), or, for a valid call, do what was asked. The kinds:

- ``overwrite``: a function that writes a file must not replace one a user made
  unless asked (``overwrite=True``, ``--force``);
- ``fallback``: an explicitly named data folder is used or refused, never
  silently replaced by another copy;
- ``garbage``: input that would give a wrong result without a word (0..255
  images where [0, 1] is needed, a NaN setting, a configuration that trains
  backwards or not at all, or whose store key changes between sessions);
- ``deep``: mistakes that used to end in an error from deep inside Keras,
  TensorFlow or NumPy (networks swapped, sizes that do not match, float
  widths, a dropout of 30, labels outside the classes or given as names,
  counts too large to allocate, negative seeds);
- ``fix``: the message names the right fix (``np.moveaxis``, grayscale,
  ``np.argmax``, divide by 255);
- ``file_error``: a damaged or foreign dataset file is an ``OSError`` (and a
  ``ValueError``), a missing one a ``FileNotFoundError``;
- ``cli``: the sampling command answers a bad request with one line,
  ``error: ...``, and exit status 2.

The end of the run prints, per kind, how many cases were tried and how many
ended as they must (``fuzzkit.KINDS``).
"""

from __future__ import annotations

import gzip
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

import fuzzkit
from fuzzkit import check_clear

import visionbook  # noqa: F401
import keras
from visionbook import checks, cnn, data, gan, metrics, plots, sample, store, vae
from visionbook.apps import cells, codes, signs

try:  # modules being rewritten: a missing one fails only its own cases
    from visionbook import cgan
except ImportError:  # pragma: no cover
    cgan = None
try:
    from visionbook import augmentation
except ImportError:  # pragma: no cover
    augmentation = None


@pytest.fixture(autouse=True, scope="module")
def _tiny_models():
    fuzzkit.build_all()
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def M(kind: str) -> keras.Model:  # noqa: N802 - a short name keeps the case tables readable
    return fuzzkit.model(kind)


def expect_clear(kind: str, call, names, *, errors=(ValueError, TypeError), fix: str | tuple[str, ...] = ()):
    """``call()`` must raise one of ``errors`` from visionbook, naming one of ``names`` (and ``fix``)."""
    fuzzkit.KINDS[kind] += 1
    with pytest.raises(errors) as caught:
        with fuzzkit.time_limit(fuzzkit.TIME_LIMIT):
            call()
    check_clear(caught.value, [names] if isinstance(names, str) else names)
    for text in [fix] if isinstance(fix, str) else fix:
        assert text in str(caught.value), f"the message lacks the fix {text!r}: {caught.value}"
    fuzzkit.KINDS_CLEAR[kind] += 1
    return caught.value


def u8(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)


def unit(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).random(shape).astype(np.float32)


# --------------------------------------------------------------------------
# overwrite: no file a user made is replaced unless asked
# --------------------------------------------------------------------------

USER_BYTES = b"a file the user made"


def _user_file(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(USER_BYTES)
    return path


@pytest.fixture
def models_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path / "models"))
    return tmp_path / "models"


def _tiny() -> keras.Model:
    inputs = keras.Input((2,))
    return keras.Model(inputs, keras.layers.Dense(1)(inputs))


def _frames():
    return [np.zeros((6, 8), np.uint8), np.full((6, 8), 200, np.uint8)]


OVERWRITE_CASES = ["save_animation", "write_samples_png", "write_samples_npy", "sample_main", "store_save",
                   "write_file"]


@pytest.mark.parametrize("case", OVERWRITE_CASES)
def test_overwrite_refused_without_being_asked(case, tmp_path, models_folder):
    fuzzkit.KINDS["overwrite"] += 1
    generator = M("generator")
    if case == "save_animation":
        target = _user_file(tmp_path, "training.gif")
        refuse = lambda: plots.save_animation(_frames(), str(target))  # noqa: E731
        allow = lambda: plots.save_animation(_frames(), str(target), overwrite=True)  # noqa: E731
        errors, names = FileExistsError, ["path", "overwrite=True"]
    elif case.startswith("write_samples"):
        target = _user_file(tmp_path, "samples." + case.rsplit("_", 1)[1])
        refuse = lambda: sample.write_samples(generator, target, 4)  # noqa: E731
        allow = lambda: sample.write_samples(generator, target, 4, force=True)  # noqa: E731
        errors, names = sample.SamplingError, ["--force"]
    elif case == "sample_main":
        target = _user_file(tmp_path, "grid.png")
        generator_file = tmp_path / "generator.keras"
        generator.save(generator_file)
        argv = ["--generator", str(generator_file), "--out", str(target), "--count", "4"]
        assert sample.main(argv) == 2
        assert target.read_bytes() == USER_BYTES
        assert sample.main([*argv, "--force"]) == 0
        assert target.read_bytes() != USER_BYTES
        fuzzkit.KINDS_CLEAR["overwrite"] += 1
        return
    elif case == "store_save":
        store.save(_tiny(), "mine", {"run": 1}, {"note": "trained for hours"})
        target, _ = store.model_paths("mine", {"run": 1})
        before = target.read_bytes()
        with pytest.raises(FileExistsError, match="overwrite=True") as err:
            store.save(_tiny(), "mine", {"run": 1}, {"note": "another"})
        check_clear(err.value, ["mine", "overwrite"])
        assert target.read_bytes() == before
        store.save(_tiny(), "mine", {"run": 1}, {"note": "another"}, overwrite=True)
        assert store.load("mine", {"run": 1})[1]["note"] == "another"
        fuzzkit.KINDS_CLEAR["overwrite"] += 1
        return
    else:
        target = _user_file(tmp_path, "notes.txt")
        refuse = lambda: checks.write_file(target, lambda p: p.write_text("new"))  # noqa: E731
        allow = lambda: checks.write_file(target, lambda p: p.write_text("new"), overwrite=True)  # noqa: E731
        errors, names = FileExistsError, ["path"]
    with pytest.raises(errors) as err:
        refuse()
    check_clear(err.value, names)
    assert target.read_bytes() == USER_BYTES, "the user's file was changed"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "a temporary file was left"
    allow()
    assert target.read_bytes() != USER_BYTES, "overwrite=True / force did not replace the file"
    fuzzkit.KINDS_CLEAR["overwrite"] += 1


def test_overwrite_store_keeps_what_an_interrupted_run_left(models_folder):
    """A model file without its record, or arrays without their result, is moved aside, not replaced."""
    fuzzkit.KINDS["overwrite"] += 2
    model_path, _ = store.model_paths("orphan", {})
    model_path.write_bytes(b"half a model")
    with pytest.warns(UserWarning, match="moved aside"):
        _, record = store.load_or_train("orphan", {}, lambda: (_tiny(), {}))
    assert record["loaded_from_store"] is False and model_path.is_file()
    kept = list(models_folder.glob("orphan-*.keras.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"half a model"
    fuzzkit.KINDS_CLEAR["overwrite"] += 1

    _, array_path = store.results_paths("table", {})
    np.savez(array_path, old=np.arange(3))
    before = array_path.read_bytes()
    with pytest.warns(UserWarning, match="moved aside"):
        store.load_or_compute("table", {}, lambda: {"arrays": {"new": np.zeros(2)}})
    kept = list(models_folder.glob("table-*.results.npz.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == before
    fuzzkit.KINDS_CLEAR["overwrite"] += 1


def test_overwrite_two_damaged_copies_in_one_second_are_both_kept(models_folder):
    fuzzkit.KINDS["overwrite"] += 1
    model_path, record_path = store.model_paths("twice", {})
    for content in (b"first damaged copy", b"second damaged copy"):
        model_path.write_bytes(content)
        record_path.write_text("{}")
        with pytest.warns(UserWarning, match="moved aside"):
            assert store.load("twice", {}) is None
    kept = sorted(p.read_bytes() for p in models_folder.glob("twice-*.keras.unreadable-*"))
    assert kept == [b"first damaged copy", b"second damaged copy"]
    fuzzkit.KINDS_CLEAR["overwrite"] += 1


# --------------------------------------------------------------------------
# fallback: a named data folder is used or refused
# --------------------------------------------------------------------------


def _dataset_copy(folder: Path, names=tuple(data.FASHION_MNIST_SHA256)) -> Path:
    source = data.first_complete_folder(data.fashion_mnist_search_path())
    assert source is not None, "Fashion-MNIST must be installed for the tests"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(source / name, folder / name)
    return folder


@pytest.fixture
def no_other_copy(monkeypatch):
    """Any attempt to look elsewhere or download fails the test."""
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)

    def download():
        raise AssertionError("a named folder was replaced by a download")

    monkeypatch.setattr(data, "_download_with_keras", download)
    return monkeypatch


FALLBACK_CASES = [
    "argument misspelt", "argument incomplete", "argument holds renamed files", "argument is a file",
    "argument empty", "variable misspelt", "variable incomplete", "for_training misspelt",
]


@pytest.mark.parametrize("case", FALLBACK_CASES)
def test_fallback_named_folder_is_used_or_refused(case, tmp_path, no_other_copy):
    four = list(data.FASHION_MNIST_SHA256)
    good = _dataset_copy(tmp_path / "fashion")
    argument: object = None
    if case == "argument misspelt":
        argument = tmp_path / "fasion"
    elif case == "argument incomplete":
        argument = _dataset_copy(tmp_path / "three", four[:3])
    elif case == "argument holds renamed files":
        argument = tmp_path / "renamed"
        argument.mkdir()
        for name in four:
            shutil.copy(good / name, argument / name.replace(".gz", ""))
    elif case == "argument is a file":
        argument = good / four[0]
    elif case == "argument empty":
        argument = ""
    elif case.startswith("variable"):
        folder = tmp_path / "fasion" if case == "variable misspelt" else _dataset_copy(tmp_path / "three", four[1:])
        no_other_copy.setenv(data.DATA_DIR_ENV, str(folder))
    names = ["data_dir", data.DATA_DIR_ENV]
    errors = (ValueError, OSError)
    if case == "for_training misspelt":
        expect_clear("fallback", lambda: data.fashion_mnist_for_training(tmp_path / "fasion"), names, errors=errors)
    else:
        err = expect_clear("fallback", lambda: data.load_fashion_mnist(argument), names, errors=errors)
        if case != "argument empty":
            assert "No other copy was used" in str(err)
    # The same folders, named correctly, are used.
    (x_train, _), _ = data.load_fashion_mnist(good, download=False)
    assert x_train.shape == (60000, 28, 28)


def test_fallback_model_folder_that_is_a_file_is_refused(tmp_path, monkeypatch):
    target = _user_file(tmp_path, "models")
    monkeypatch.setenv(store.MODELS_ENV, str(target))
    expect_clear("fallback", store.models_dir, [store.MODELS_ENV], errors=OSError)
    assert target.read_bytes() == USER_BYTES


# --------------------------------------------------------------------------
# garbage: wrong input that used to give a wrong result without a word
# --------------------------------------------------------------------------

HEMATOXYLIN = np.random.default_rng(1).random((64, 64)).astype(np.float32)
NAN = float("nan")


def _gan_config(**changes):
    return {**gan.FASHION_GAN, **changes}


def _cgan_config(**changes):
    return {**cgan.FASHION_CGAN, **changes}


class Reached(Exception):
    """Training would start now: every argument passed the checks."""


def _refused_before_training(call, names):
    """Patch the data loaders: a call that reaches them has not checked its configuration."""

    def reached(*args, **kwargs):
        raise Reached

    with mock.patch.object(data, "load_fashion_mnist", reached), \
            mock.patch.object(data, "fashion_mnist_for_training", reached):
        try:
            expect_clear("garbage", call, names)
        except Reached:
            pytest.fail("the configuration was not checked before training started")


GARBAGE = {
    # 0..255 images where [0, 1] is required
    "as_batch 0..255 floats": (lambda: data.as_batch(unit(2, 28, 28) * 255), ["images"], "divide by 255"),
    "show_images 0..255 floats": (lambda: plots.show_images(unit(2, 8, 8) * 255), ["images"], "divide by 255"),
    "nearest_neighbour 0..255": (
        lambda: metrics.nearest_neighbour_distances(unit(2, 8, 8) * 255, unit(3, 8, 8)), ["queries"], "255"),
    "stain_channels 0..255 floats": (
        lambda: cells.stain_channels(unit(16, 16, 3) * 255), ["rgb"], "divide by 255"),
    "detect_nuclei 0..255": (lambda: cells.detect_nuclei(HEMATOXYLIN * 255), ["hematoxylin"], "255"),
    "tissue_patches 0..255": (
        lambda: cells.tissue_patches(HEMATOXYLIN * 255, HEMATOXYLIN, patch=8, block=32), ["channel"], "255"),
    "segment_code 0..255": (lambda: codes.segment_code(unit(12, 40) * 255), ["canvas"], "255"),
    "center_digit 0..16": (lambda: codes.center_digit(unit(8, 8) * 16), ["image"], "16"),
    "reconstruction_loss 0..255": (
        lambda: vae.reconstruction_loss(unit(2, 28, 28, 1) * 255, unit(2, 28, 28, 1)), ["images"], "255"),
    # NaN settings that pass a "< 0" test
    "compose_codes noise NaN": (
        lambda: codes.compose_codes(unit(5, 8, 8), np.arange(5), 2, 2, noise=NAN), ["noise"], ""),
    "render_signs occlusion NaN": (lambda: signs.render_signs(2, occlusion=NAN), ["occlusion"], ""),
    "render_signs rotation NaN": (lambda: signs.render_signs(2, rotation=NAN), ["rotation"], ""),
    "detect_nuclei sigma NaN": (lambda: cells.detect_nuclei(HEMATOXYLIN, sigma=NAN), ["sigma"], ""),
    "match_points radius NaN": (lambda: cells.match_points([[1, 1]], [[1, 1]], radius=NAN), ["radius"], ""),
    "tissue_patches share NaN": (
        lambda: cells.tissue_patches(HEMATOXYLIN, HEMATOXYLIN, patch=8, block=32, positive_share=NAN),
        ["positive_share"], ""),
    "class_coverage min_share NaN": (
        lambda: metrics.class_coverage(np.eye(3), min_share=NAN), ["min_share"], ""),
    "vae.sample std NaN": (lambda: vae.sample(M("decoder"), 2, std=NAN), ["std"], ""),
    "show_images size NaN": (lambda: plots.show_images(unit(2, 8, 8), size=NAN), ["size"], ""),
    "create_cnn_model dropout NaN": (
        lambda: cnn.create_cnn_model((28, 28, 1), 10, (4,), (1,), dropout=NAN), ["dropout"], ""),
    "one_cycle_schedule peak NaN": (lambda: cnn.one_cycle_schedule(10, NAN), ["peak_learning_rate"], ""),
    "HoldThenLinearDecay rate NaN": (lambda: gan.HoldThenLinearDecay(NAN, 10, 0.5), ["learning_rate"], ""),
    # configurations that would train backwards, or not at all
    "gan config negative learning rate": (
        lambda: gan.build_fashion_gan(_gan_config(learning_rate=-2e-3)), ["learning_rate"], ""),
    "gan config beta_1 NaN": (lambda: gan.build_fashion_gan(_gan_config(beta_1=NAN)), ["beta_1"], ""),
    "cgan config negative learning rate": (
        lambda: cgan.build_conditional_gan(_cgan_config(learning_rate=-2e-3)), ["learning_rate"], ""),
    "cgan config float widths": (
        lambda: cgan.build_conditional_gan(_cgan_config(generator_widths=(64.0, 32))), ["generator_widths", "widths"],
        ""),
    # a configuration whose store key would change from session to session
    "config_key of an object": (lambda: store.config_key({"optimizer": object()}), ["config"], "session"),
    "model_paths of a function": (lambda: store.model_paths("m", {"schedule": print}), ["config"], "session"),
    "load_or_train of an object": (
        lambda: store.load_or_train("m", {"callback": object()}, lambda: 1 / 0), ["config"], "session"),
}


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_garbage_is_refused(case, models_folder):
    call, names, fix = GARBAGE[case]
    expect_clear("garbage", call, names, fix=fix)


TRAINING_CONFIGS = {
    "train_fashion_gan batch_size 0": (lambda: gan.train_fashion_gan(_gan_config(batch_size=0)), ["batch_size"]),
    "train_fashion_gan epochs 0": (lambda: gan.train_fashion_gan(_gan_config(epochs=0)), ["epochs"]),
    "train_fashion_gan negative rate": (
        lambda: gan.train_fashion_gan(_gan_config(learning_rate=-1e-3)), ["learning_rate"]),
    "train_conditional_gan batch_size 0": (
        lambda: cgan.train_conditional_gan(_cgan_config(batch_size=0)), ["batch_size"]),
    "train_conditional_gan epochs 0": (lambda: cgan.train_conditional_gan(_cgan_config(epochs=0)), ["epochs"]),
    "train_conditional_gan misspelt key": (
        lambda: cgan.train_conditional_gan({**cgan.FASHION_CGAN, "learning_rat": 1e-3}), ["learning_rat"]),
    "train_fashion_cnn epochs 0": (lambda: cnn.train_fashion_cnn(epochs=0), ["epochs"]),
    "train_fashion_vae negative rate": (lambda: vae.train_fashion_vae(learning_rate=-1e-3), ["learning_rate"]),
}


@pytest.mark.parametrize("case", sorted(TRAINING_CONFIGS))
def test_garbage_configuration_is_refused_before_training(case):
    call, names = TRAINING_CONFIGS[case]
    _refused_before_training(call, names)


# --------------------------------------------------------------------------
# deep: errors that used to come from inside Keras, TensorFlow or NumPy
# --------------------------------------------------------------------------

BIG = 10**13  # images: far beyond any machine's memory


def _labelled(n=12):
    return u8(n, 28, 28), np.arange(n) % 10


DEEP = {
    # networks passed in the wrong order, sizes that do not match
    "GAN(discriminator, generator)": (lambda: gan.GAN(M("discriminator"), M("generator")), ["generator"]),
    "GAN latent_dim mismatch": (
        lambda: gan.GAN(M("generator"), M("discriminator"), latent_dim=64), ["latent_dim"]),
    "ConditionalGAN(discriminator, generator)": (
        lambda: cgan.ConditionalGAN(M("cdiscriminator"), M("cgenerator")), ["generator"]),
    "ConditionalGAN num_classes mismatch": (
        lambda: cgan.ConditionalGAN(M("cgenerator"), M("cdiscriminator"), num_classes=3), ["num_classes"]),
    "gan.generate with a conditional generator": (lambda: gan.generate(M("cgenerator"), np.zeros((2, 8))),
                                                  ["generator"]),
    "cgan.generate with a plain generator": (lambda: cgan.generate(M("generator"), [1, 2]), ["generator"]),
    "predict_classes with an unbuilt model": (
        lambda: cnn.predict_classes(keras.Sequential([keras.layers.Dense(3)]), u8(2, 28, 28)), ["model"]),
    "predict_classes with a file name": (lambda: cnn.predict_classes("cnn.keras", u8(2, 28, 28)), ["model"]),
    # float widths, a dropout of 30
    "create_generator float widths": (lambda: gan.create_generator(8, widths=(8.0, 4, 4)), ["widths"]),
    "create_discriminator float widths": (lambda: gan.create_discriminator(widths=(4, 8.5)), ["widths"]),
    "create_conditional_generator float widths": (
        lambda: cgan.create_conditional_generator(8, widths=(8.0, 4)), ["widths"]),
    "create_encoder float filters": (lambda: vae.create_encoder(4, filters=(4.0, 4)), ["filters"]),
    "create_cnn_model float filters": (
        lambda: cnn.create_cnn_model((28, 28, 1), 10, (4.0,), (1,)), ["filters"]),
    "create_cnn_model dropout 30": (
        lambda: cnn.create_cnn_model((28, 28, 1), 10, (4,), (1,), dropout=30), ["dropout"]),
    "check_fraction 30": (lambda: checks.check_fraction(30, "dropout"), ["dropout"]),
    # labels outside the classes, or given as names where indices are needed
    "cgan.generate label 12": (lambda: cgan.generate(M("cgenerator"), [12]), ["12", "labels"]),
    "labelled_dataset label 12": (
        lambda: cgan.labelled_dataset(u8(4, 28, 28), [0, 1, 2, 12], batch_size=2), ["12", "labels"]),
    "class_match label 12": (lambda: cgan.class_match(M("classifier"), u8(2, 28, 28), [1, 12]), ["12", "labels"]),
    "confusion matrix label 12": (
        lambda: plots.plot_confusion_matrix([0, 12], [0, 1], ["a", "b", "c"]), ["y_true"]),
    "compose_codes label 12": (lambda: codes.compose_codes(unit(3, 8, 8), [1, 2, 12], 2, 2), ["labels"]),
    "compose_codes labels as names": (
        lambda: codes.compose_codes(unit(3, 8, 8), ["one", "two", "three"], 2, 2), ["labels"]),
    "confusion matrix unknown name": (
        lambda: plots.plot_confusion_matrix(["Coat", "Cape"], [0, 1], ["Coat", "Bag"]), ["y_true", "Cape"]),
    "train_small_cnn label 12": (
        lambda: augmentation.train_small_cnn(u8(4, 28, 28), [0, 1, 2, 12], steps=1), ["12", "labels"]),
    # counts too large to allocate
    "gan.sample huge count": (lambda: gan.sample(M("generator"), BIG), ["count"]),
    "vae.sample huge count": (lambda: vae.sample(M("decoder"), BIG), ["count"]),
    "sample_classes huge per_class": (lambda: cgan.sample_classes(M("cgenerator"), BIG), ["per_class"]),
    "render_signs huge count": (lambda: signs.render_signs(BIG), ["count"]),
    "render_signs huge size": (lambda: signs.render_signs(1, size=10**6), ["size"]),
    "compose_codes huge count": (lambda: codes.compose_codes(unit(3, 8, 8), [1, 2, 3], BIG, 2), ["count"]),
    "write_samples huge count": (lambda: sample.write_samples(M("generator"), "/nonexistent-visionbook/x.npy", BIG), ["--count"]),
    "image_grid huge padding": (lambda: plots.image_grid(unit(2, 8, 8), padding=10**7), ["padding"]),
    "save_animation huge scale": (lambda: plots.save_animation(_frames(), "/nonexistent-visionbook/never.gif", scale=10**6), ["scale"]),
    "SampleGrid huge count": (lambda: gan.SampleGrid(count=BIG), ["count"]),
    "labelled_subset more than a class holds": (lambda: cgan.labelled_subset(7000), ["per_class"]),
    # negative seeds where check_seed exists
    "compose_codes seed -1": (lambda: codes.compose_codes(unit(3, 8, 8), [1, 2, 3], 2, 2, seed=-1), ["seed"]),
    "render_signs seed -1": (lambda: signs.render_signs(2, seed=-1), ["seed"]),
    "cgan.generate seed -1": (lambda: cgan.generate(M("cgenerator"), [1], seed=-1), ["seed"]),
    "sample_classes seed -1": (lambda: cgan.sample_classes(M("cgenerator"), 1, seed=-1), ["seed"]),
    "labelled_subset seed -1": (lambda: cgan.labelled_subset(10, seed=-1), ["seed"]),
    "labelled_dataset seed -1": (lambda: cgan.labelled_dataset(*_labelled(4), batch_size=2, seed=-1), ["seed"]),
    "ClassFrames seed -1": (lambda: cgan.ClassFrames(seed=-1), ["seed"]),
    "GAN seed -1": (lambda: gan.GAN(M("generator"), M("discriminator"), latent_dim=8, seed=-1), ["seed"]),
    "shift_flip seed -1": (lambda: augmentation.shift_flip(u8(3, 28, 28), 2, seed=-1), ["seed"]),
    "write_samples seed 2**40": (lambda: sample.write_samples(M("generator"), "/nonexistent-visionbook/x.npy", 2, seed=2**40),
                                 ["--seed"]),
}


@pytest.mark.parametrize("case", sorted(DEEP))
def test_deep_library_errors_become_clear(case):
    call, names = DEEP[case]
    expect_clear("deep", call, names)


def test_deep_labels_given_as_names_are_understood_where_names_are_known():
    fuzzkit.KINDS["deep"] += 2
    figure = plots.plot_confusion_matrix(["Coat", "Bag", "coat"], [4, 8, 0], list(data.FASHION_MNIST_CLASSES))
    assert figure is not None
    fuzzkit.KINDS_CLEAR["deep"] += 1
    images = cgan.generate(M("cgenerator"), ["Coat", "bag"])
    assert images.shape == (2, 28, 28, 1)
    fuzzkit.KINDS_CLEAR["deep"] += 1


# --------------------------------------------------------------------------
# fix: the message names the right fix
# --------------------------------------------------------------------------

PROBABILITIES = np.random.default_rng(0).dirichlet(np.ones(3), size=4)

FIXES = {
    "channels-first batch": (lambda: data.as_batch(u8(2, 1, 28, 28)), ["images"], "np.moveaxis(x, 1, -1)"),
    "channels-first colour batch": (
        lambda: data.as_batch(u8(2, 3, 28, 28), channels=3), ["images"], "np.moveaxis(x, 1, -1)"),
    "channels-first colour image": (
        lambda: data.as_batch(u8(3, 28, 28), channels=3), ["images"], "np.moveaxis(x, 0, -1)"),
    "one colour image, gray model": (lambda: data.as_batch(u8(28, 28, 3)), ["images"], "grayscale"),
    "colour batch, gray model": (lambda: data.as_batch(u8(2, 28, 28, 3)), ["images"], "grayscale"),
    "flattened images": (lambda: data.as_batch(u8(2, 784)), ["images"], "reshape"),
    "predict_classes channels-first": (
        lambda: cnn.predict_classes(M("classifier"), u8(2, 1, 28, 28)), ["images"], "np.moveaxis"),
    "probabilities of one colour image": (
        lambda: metrics.probabilities(M("classifier"), u8(28, 28, 3)), ["images"], "grayscale"),
    "show_images channels-first": (lambda: plots.show_images(u8(2, 1, 8, 8)), ["images"], "np.moveaxis"),
    "image_grid colour": (lambda: plots.image_grid(u8(2, 8, 8, 3)), ["images"], "grayscale"),
    "confusion matrix of probabilities": (
        lambda: plots.plot_confusion_matrix([0, 1, 2, 1], PROBABILITIES, ["a", "b", "c"]), ["y_pred"], "np.argmax"),
    "confusion matrix of one-column probabilities": (
        lambda: plots.plot_confusion_matrix([0, 1, 2, 1], PROBABILITIES[:, 0], ["a", "b", "c"]), ["y_pred"],
        "probabilities"),
    "class_match of probabilities": (
        lambda: cgan.class_match(M("classifier3"), u8(4, 28, 28), PROBABILITIES), ["labels"], "argmax"),
    "classifier_score of class indices": (
        lambda: metrics.classifier_score(np.array([0, 1, 2, 1])), ["probs"], "probabilities"),
    "to_unit_range 0..255 floats": (lambda: data.to_unit_range(unit(3) * 255), ["images"], "divide by 255"),
    "dropout as a percentage": (lambda: checks.check_fraction(30, "dropout"), ["dropout"], "0.3"),
    "float seed": (lambda: checks.check_seed(3.0), ["seed"], "int(3.0)"),
    "stain_channels channels-first": (lambda: cells.stain_channels(u8(3, 16, 16)), ["rgb"], "np.moveaxis"),
    "model given as a path": (lambda: metrics.probabilities("judge.keras", u8(2, 28, 28)), ["classifier"],
                              "keras.saving.load_model"),
}


@pytest.mark.parametrize("case", sorted(FIXES))
def test_fix_named_in_the_message(case):
    call, names, fix = FIXES[case]
    expect_clear("fix", call, names, fix=fix)


# --------------------------------------------------------------------------
# file_error: dataset problems are file errors
# --------------------------------------------------------------------------


def _damaged(folder: Path, how: str) -> Path:
    _dataset_copy(folder)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    if how == "wrong hash":
        labels = bytearray(gzip.decompress(target.read_bytes()))
        labels[100] = (labels[100] + 1) % 10
        target.write_bytes(gzip.compress(bytes(labels)))
    elif how == "foreign file":
        target.write_bytes(b"<html>a login page saved by a proxy</html>")
    elif how == "truncated":
        target.write_bytes(target.read_bytes()[:200])
    return folder


@pytest.mark.parametrize("how", ["wrong hash", "foreign file", "truncated", "missing folder", "found nowhere"])
@pytest.mark.parametrize("catch", [OSError, ValueError])
def test_file_error_dataset_problems_are_os_and_value_errors(how, catch, tmp_path, monkeypatch):
    fuzzkit.KINDS["file_error"] += 1
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    if how == "found nowhere":
        monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "none")
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
        folder = None
    elif how == "missing folder":
        folder = tmp_path / "nowhere"
    else:
        folder = _damaged(tmp_path / "copy", how)
    try:
        data.load_fashion_mnist(folder, download=False)
    except catch as err:
        assert isinstance(err, data.DatasetError)
        if how in ("missing folder", "found nowhere"):
            assert isinstance(err, FileNotFoundError)
        fuzzkit.KINDS_CLEAR["file_error"] += 1
    else:
        pytest.fail("a damaged, foreign or missing dataset was accepted")


# --------------------------------------------------------------------------
# cli: one line, "error: ...", exit status 2
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_files(tmp_path_factory):
    folder = fuzzkit.save_models(tmp_path_factory.mktemp("cli"))
    (folder / "a_file").write_bytes(b"x")
    (folder / "taken.png").write_bytes(USER_BYTES)
    return folder


CLI_CASES = {
    "seed -1": ["--seed", "-1"],
    "seed 2**40": ["--seed", str(2**40)],
    "count 0": ["--count", "0"],
    "count -5": ["--count", "-5"],
    "count too large": ["--count", str(BIG)],
    "ncols 0": ["--ncols", "0"],
    "out under a file": ["--out", "{folder}/a_file/grid.png"],
    "out is a folder": ["--out", "{folder}"],
    "out of another type": ["--out", "{folder}/grid.txt"],
    "out exists": ["--out", "{folder}/taken.png"],
    "generator missing": ["--generator", "{folder}/none.keras"],
    "generator junk": ["--generator", "{folder}/junk.keras"],
    "generator is a classifier": ["--generator", "{folder}/classifier.keras"],
    "generator is a folder": ["--generator", "{folder}"],
    "count not a number": ["--count", "many"],
}


def _argv(case: str, folder: Path) -> list[str]:
    argv = {"--generator": str(folder / "generator.keras"), "--out": str(folder / f"{case}.npy")}
    tokens = CLI_CASES[case]
    for option, value in zip(tokens[::2], tokens[1::2]):
        argv[option] = value.format(folder=folder)
    return [token for pair in argv.items() for token in pair]


@pytest.mark.parametrize("case", sorted(CLI_CASES))
def test_cli_bad_requests_are_one_line_and_exit_2(case, cli_files, capsys):
    fuzzkit.KINDS["cli"] += 1
    try:
        code = sample.main(_argv(case, cli_files))
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2, f"exit status {code}: {err}"
    assert "Traceback" not in err
    last = err.splitlines()[-1]
    assert last.startswith(("error: ", "python -m visionbook.sample: error: ")), err
    if not last.startswith("python -m"):
        assert len(err.splitlines()) == 1, f"more than one line: {err}"
    assert (cli_files / "taken.png").read_bytes() == USER_BYTES
    fuzzkit.KINDS_CLEAR["cli"] += 1


def test_cli_module_exits_2_without_a_traceback(cli_files, tmp_path):
    """The same through ``python -m visionbook.sample``, as a reader types it."""
    fuzzkit.KINDS["cli"] += 1
    env = {**os.environ, store.MODELS_ENV: str(tmp_path / "models")}
    result = subprocess.run(
        [sys.executable, "-m", "visionbook.sample", *_argv("seed 2**40", cli_files)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "--seed" in lines[0], result.stderr[-3000:]
    fuzzkit.KINDS_CLEAR["cli"] += 1


def test_cli_a_model_folder_that_is_a_file_is_one_line(cli_files, monkeypatch, capsys):
    fuzzkit.KINDS["cli"] += 1
    monkeypatch.setenv(store.MODELS_ENV, str(cli_files / "a_file"))
    assert sample.main(["--out", str(cli_files / "default.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and len(err.splitlines()) == 1 and store.MODELS_ENV in err, err
    fuzzkit.KINDS_CLEAR["cli"] += 1


def test_math_of_the_memory_check():
    """The memory bound: a count that fits passes, one that does not names the count and the size."""
    assert checks.check_count(1000, "count", item_bytes=3136) == 1000
    limit = checks.physical_memory_bytes() // 2
    with pytest.raises(ValueError, match="count = .* would need"):
        checks.check_count(math.ceil(limit / 3136) + 1, "count", item_bytes=3136)
