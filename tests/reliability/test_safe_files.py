"""Safe files: the model store and the dataset loader never trust, run or destroy a bad file.

What ``tests/unit/test_store.py`` and ``tests/unit/test_data.py`` already
prove: a successful save leaves no temporary file; a damaged ``.keras`` file
is moved aside (kept) and the model retrained; a Fashion-MNIST file with a
wrong SHA-256 or a truncated one is reported and left in place (download
switched off).  Added here:

- a save interrupted while writing keeps the previous model and leaves no
  temporary file; a first save interrupted before its record is not trusted;
- a model file that would run code when loaded (a ``Lambda`` layer) is
  refused by ``safe_mode``, the code never runs, and the model is retrained;
- an unreadable record and a pickled ``.npz`` are refused the same way;
- a damaged dataset file is reported, not replaced, even when downloading is
  allowed and even when it sits in Keras's own cache;
- a named dataset folder that lacks a file is refused, never replaced by
  another copy or a download; the error is a ``FileNotFoundError``;
- files a user made are never replaced by the package's writers
  (``store.save``, ``plots.save_animation``, the sampling command) unless
  asked, and an interrupted write leaves the old file whole;
- a store round trip, data loading and sampling write nothing outside the
  model folder and the output the caller named, except the usual caches of
  Keras (``~/.keras/keras.json``) and matplotlib (font list, config folder).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import keras
import numpy as np
import pytest

from visionbook import data, store


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path / "models"))
    return tmp_path / "models"


def _tiny(value: float = 0.0) -> keras.Model:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1, kernel_initializer="zeros")(inputs))
    model.layers[-1].bias.assign([value])
    return model


def _bias(model: keras.Model) -> float:
    return float(model.layers[-1].bias.numpy()[0])


def test_interrupted_save_keeps_the_previous_model(models):
    store.save(_tiny(1.0), "tiny", {}, {"run": 1})
    model_path, record_path = store.model_paths("tiny", {})
    before = model_path.read_bytes(), record_path.read_text()

    def crash_half_way(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt  # the user pressed Ctrl-C, or the machine went down

    broken = _tiny(2.0)
    with pytest.raises(FileExistsError, match="overwrite=True"):  # kept unless asked
        store.save(broken, "tiny", {}, {"run": 2})
    assert (model_path.read_bytes(), record_path.read_text()) == before
    with mock.patch.object(type(broken), "save", crash_half_way), pytest.raises(KeyboardInterrupt):
        store.save(broken, "tiny", {}, {"run": 2}, overwrite=True)
    assert (model_path.read_bytes(), record_path.read_text()) == before
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")], "a temporary file was left"
    model, record = store.load("tiny", {})
    assert _bias(model) == 1.0 and record["run"] == 1


def test_first_save_interrupted_before_its_record_is_not_trusted(models):
    real_write_text = Path.write_text

    def crash_on_record(self, *args, **kwargs):
        if self.suffix == ".json":
            raise KeyboardInterrupt
        return real_write_text(self, *args, **kwargs)

    with mock.patch.object(Path, "write_text", crash_on_record), pytest.raises(KeyboardInterrupt):
        store.save(_tiny(3.0), "fresh", {}, {})
    assert not [p.name for p in models.iterdir() if p.name.startswith(".")], "a temporary file was left"
    assert store.load("fresh", {}) is None, "a model without its record must count as missing"
    with pytest.warns(UserWarning, match="incomplete stored model"):  # kept aside, never deleted
        _, record = store.load_or_train("fresh", {}, lambda: (_tiny(4.0), {"retrained": True}))
    assert record["retrained"] and not record["loaded_from_store"]
    assert len(list(models.glob("fresh-*.keras.unreadable-*"))) == 1


def test_model_file_that_would_run_code_is_refused_and_retrained(models, tmp_path):
    marker = tmp_path / "code-ran"
    inputs = keras.Input((3,))
    # Written with eval so the path is a constant inside the function, not a closure.
    trap = keras.layers.Lambda(eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]"))
    foreign = keras.Model(inputs, trap(inputs))
    marker.unlink(missing_ok=True)  # building the model called the lambda once
    model_path, record_path = store.model_paths("victim", {"v": 1})
    foreign.save(model_path)
    record_path.write_text(json.dumps({"name": "victim"}))
    with pytest.warns(UserWarning, match="moved aside"):
        assert store.load("victim", {"v": 1}) is None
    assert not marker.exists(), "loading a stored model ran code from the file"
    assert len(list(models.glob("victim-*.keras.unreadable-*"))) == 1, "the refused file must be kept"
    _, record = store.load_or_train("victim", {"v": 1}, lambda: (_tiny(), {}))
    assert record["loaded_from_store"] is False and model_path.is_file()
    assert not marker.exists()


def test_unreadable_record_and_pickled_arrays_are_refused(models):
    store.save(_tiny(), "rec", {}, {})
    _, record_path = store.model_paths("rec", {})
    record_path.write_text("{ not json")
    with pytest.warns(UserWarning, match="moved aside"):
        assert store.load("rec", {}) is None

    store.save(_tiny(), "arr", {}, {}, {"frames": np.zeros(2)})
    np.savez(store.arrays_path("arr", {}), frames=np.array([{"pickled": "object"}], dtype=object))
    with pytest.warns(UserWarning, match="moved aside"):
        assert store.load("arr", {}) is None
    kept = sorted(p.name.split(".unreadable-")[0] for p in models.iterdir() if ".unreadable-" in p.name)
    assert kept == ["arr-" + store.config_key({}) + s for s in (".json", ".keras", ".npz")] + [
        "rec-" + store.config_key({}) + s for s in (".json", ".keras")
    ]


def test_objects_that_need_pickle_cannot_be_stored(models):
    with pytest.raises(TypeError, match="without pickle"):
        store.save(_tiny(), "obj", {}, {}, {"frames": np.array([None], dtype=object)})
    assert not list(models.glob("obj-*")), "nothing may be written for a refused save"


def _copy_dataset(folder: Path) -> Path:
    source = data.first_complete_folder(data.fashion_mnist_search_path())
    assert source is not None, "Fashion-MNIST must be installed for the tests"
    folder.mkdir(parents=True, exist_ok=True)
    for name in data.FASHION_MNIST_SHA256:
        shutil.copy(source / name, folder / name)
    return folder


def _damage(path: Path) -> bytes:
    labels = bytearray(gzip.decompress(path.read_bytes()))
    labels[200] = (labels[200] + 1) % 10
    path.write_bytes(gzip.compress(bytes(labels)))
    return path.read_bytes()


@pytest.mark.parametrize("where", ["explicit folder", "keras cache"])
def test_damaged_dataset_is_reported_never_replaced_even_with_download_allowed(tmp_path, monkeypatch, where):
    keras_home = tmp_path / "keras"
    if where == "keras cache":
        folder = _copy_dataset(keras_home / "datasets" / "fashion-mnist")
        argument = None
    else:
        folder = argument = _copy_dataset(tmp_path / "mine")
    target = folder / "t10k-labels-idx1-ubyte.gz"
    damaged = _damage(target)
    stamp = target.stat().st_mtime_ns
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)

    def no_download():
        raise AssertionError("a damaged copy must be reported, not replaced by a download")

    monkeypatch.setattr(data, "_download_with_keras", no_download)
    with pytest.raises(data.DatasetError, match="SHA-256") as err:
        data.load_fashion_mnist(argument, download=True)
    assert str(target) in str(err.value) and "left in place" in str(err.value)
    assert target.read_bytes() == damaged and target.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in folder.iterdir()) == sorted(data.FASHION_MNIST_SHA256)


@pytest.mark.parametrize("source", ["argument", "environment variable"])
def test_incomplete_named_dataset_folder_is_refused_not_replaced(tmp_path, monkeypatch, source):
    folder = _copy_dataset(tmp_path / "mine")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    if source == "environment variable":
        monkeypatch.setenv(data.DATA_DIR_ENV, str(folder))

    def no_download():
        raise AssertionError("a named folder must be used or refused, not replaced by a download")

    monkeypatch.setattr(data, "_download_with_keras", no_download)
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte.gz") as err:
        data.load_fashion_mnist(folder if source == "argument" else None, download=True)
    assert isinstance(err.value, data.DatasetError) and str(folder) in str(err.value)
    left = sorted(name for name in data.FASHION_MNIST_SHA256 if name != "t10k-labels-idx1-ubyte.gz")
    assert sorted(p.name for p in folder.iterdir()) == left, "the folder was changed"


def test_an_interrupted_animation_leaves_the_old_file_whole(tmp_path):
    from visionbook import plots

    target = tmp_path / "training.gif"
    plots.save_animation([np.zeros((4, 4), np.uint8)], str(target))
    before = target.read_bytes()

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    with mock.patch("PIL.Image.Image.save", crash), pytest.raises(KeyboardInterrupt):
        plots.save_animation([np.full((4, 4), 9, np.uint8)], str(target), overwrite=True)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["training.gif"], "a temporary file was left"


WRITER = r"""
import os, sys
from pathlib import Path
import visionbook
import keras, numpy as np
from visionbook import data, gan, sample, store

inputs = keras.Input((4,))
model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
store.load_or_train("probe", {"n": 1}, lambda: (model, {"arrays": {"a": np.zeros(3)}}))
loaded, record = store.load_or_train("probe", {"n": 1}, lambda: 1 / 0)
assert record["loaded_from_store"]
(x, _), _ = data.load_fashion_mnist(download=False)
noise = keras.Input((8,))
generator = keras.Model(noise, keras.layers.Reshape((28, 28, 1))(keras.layers.Dense(784, activation="tanh")(noise)))
generator.save(Path(sys.argv[1]) / "generator.keras")
assert sample.main(["--generator", str(Path(sys.argv[1]) / "generator.keras"),
                    "--out", str(Path(sys.argv[1]) / "grid.png"), "--count", "4"]) == 0
print("done")
"""


def test_nothing_is_written_outside_the_named_folders(tmp_path):
    """Run a store round trip, a data load and the sampling command with an empty HOME."""
    home, tmp, cwd, models_folder, out = (tmp_path / n for n in ("home", "tmp", "cwd", "models", "out"))
    for folder in (home, tmp, cwd, out):
        folder.mkdir()
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("XDG_", "MPL", "KERAS_", "VISIONBOOK_", "JUPYTER", "IPYTHON"))
    }
    env.update(HOME=str(home), TMPDIR=str(tmp), VISIONBOOK_MODELS=str(models_folder))
    result = subprocess.run(
        [sys.executable, "-c", WRITER, str(out)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0 and "done" in result.stdout, result.stderr[-4000:]
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    allowed_prefixes = (
        "models/probe-",  # the model store
        "out/",  # what the caller asked for
        "home/.keras/keras.json",  # Keras writes its configuration on first import
        "home/.cache/matplotlib/",  # matplotlib's font list
        "home/.config/matplotlib/",  # matplotlib's configuration folder
    )
    unexpected = [p for p in written if not p.startswith(allowed_prefixes)]
    assert not unexpected, f"files written outside the model store, the output and the usual caches: {unexpected}"
    assert any(p.startswith("models/probe-") and p.endswith(".keras") for p in written)
    assert not any(tmp.iterdir()), "temporary files were left in TMPDIR"
    assert not any(cwd.iterdir()), "files were written into the current folder"
