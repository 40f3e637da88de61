"""visionbook.store: train-if-missing, atomic saves, damaged files moved aside."""

import json

import keras
import numpy as np
import pytest

from visionbook import store


@pytest.fixture
def models(tmp_path, monkeypatch):
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path))
    return tmp_path


def _tiny():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(2)(inputs))


def test_train_once_then_reuse(models):
    calls = []

    def train():
        calls.append(1)
        return _tiny(), {"test_accuracy": 0.5}

    model, record = store.load_or_train("tiny", {"width": 2}, train)
    assert record["loaded_from_store"] is False and record["wall_seconds"] > 0
    again, record2 = store.load_or_train("tiny", {"width": 2}, train)
    assert len(calls) == 1 and record2["loaded_from_store"] is True
    assert record2["test_accuracy"] == 0.5 and record2["wall_seconds"] == record["wall_seconds"]
    x = np.ones((1, 4), np.float32)
    np.testing.assert_allclose(model(x), again(x), atol=1e-6)
    # Another configuration is another model.
    store.load_or_train("tiny", {"width": 3}, train)
    assert len(calls) == 2
    assert not [p for p in models.iterdir() if p.name.startswith(".")], "temporary files left"


def test_damaged_model_is_moved_aside_and_retrained(models):
    model_path, record_path = store.model_paths("tiny", {})
    store.save(_tiny(), "tiny", {}, {})
    model_path.write_bytes(b"not a keras file")
    with pytest.warns(UserWarning, match="moved aside"):
        assert store.load("tiny", {}) is None
    kept = [p for p in models.iterdir() if ".unreadable-" in p.name]
    assert len(kept) == 2, "the damaged files must be kept, not deleted"
    _, record = store.load_or_train("tiny", {}, lambda: (_tiny(), {"ok": True}))
    assert record["ok"] and model_path.exists()
    assert json.loads(record_path.read_text())["ok"] is True


def test_names_must_be_plain(models):
    with pytest.raises(ValueError, match="plain file name"):
        store.model_paths("../escape", {})


def test_config_key_is_stable_and_order_free():
    assert store.config_key({"a": 1, "b": 2}) == store.config_key({"b": 2, "a": 1})
    assert store.config_key({"a": 1}) != store.config_key({"a": 2})


def test_results_are_computed_once_then_reused(models):
    calls = []

    def compute():
        calls.append(1)
        return {"mean": 0.5, "arrays": {"table": np.arange(6.0).reshape(2, 3)}}

    first = store.load_or_compute("experiment", {"seeds": (0, 1)}, compute)
    assert first["loaded_from_store"] is False and first["mean"] == 0.5 and first["wall_seconds"] > 0
    again = store.load_or_compute("experiment", {"seeds": (0, 1)}, compute)
    assert len(calls) == 1 and again["loaded_from_store"] is True
    assert again["wall_seconds"] == first["wall_seconds"]
    np.testing.assert_array_equal(again["arrays"]["table"], np.arange(6.0).reshape(2, 3))
    assert again["mean"] == 0.5 and again["config"] == {"seeds": [0, 1]}
    store.load_or_compute("experiment", {"seeds": (0, 1, 2)}, compute)
    assert len(calls) == 2, "another configuration is another result"
    assert not [p for p in models.iterdir() if p.name.startswith(".")], "temporary files left"


def test_results_without_arrays_and_a_model_of_the_same_name(models):
    store.save(_tiny(), "shared", {}, {"kind": "model"})
    result = store.load_or_compute("shared", {}, lambda: {"kind": "table"})
    assert "arrays" not in result and result["kind"] == "table"
    _, record = store.load("shared", {})
    assert record["kind"] == "model", "a result must not overwrite a model's record"


def test_damaged_result_is_moved_aside_and_computed_again(models):
    record_path, _ = store.results_paths("experiment", {})
    store.load_or_compute("experiment", {}, lambda: {"value": 1})
    record_path.write_text("{not json")
    with pytest.warns(UserWarning, match="moved aside"):
        result = store.load_or_compute("experiment", {}, lambda: {"value": 2})
    assert result["value"] == 2 and result["loaded_from_store"] is False
    assert [p for p in models.iterdir() if ".unreadable-" in p.name]


def test_compute_must_return_a_dict(models):
    with pytest.raises(TypeError, match="must return a dict"):
        store.load_or_compute("experiment", {}, lambda: [1, 2])


def test_a_stored_model_is_kept_unless_overwrite(models):
    store.save(_tiny(), "kept", {"v": 1}, {"run": 1})
    model_path, _ = store.model_paths("kept", {"v": 1})
    before = model_path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        store.save(_tiny(), "kept", {"v": 1}, {"run": 2})
    assert model_path.read_bytes() == before and store.load("kept", {"v": 1})[1]["run"] == 1
    store.save(_tiny(), "kept", {"v": 1}, {"run": 2}, overwrite=True)
    assert store.load("kept", {"v": 1})[1]["run"] == 2


def test_config_keys_of_the_book_are_unchanged():
    """The stricter key (plain data only) gives every book configuration its old key: no retraining."""
    import hashlib

    from visionbook import cgan, cnn, gan, vae

    for config in (gan.FASHION_GAN, cgan.FASHION_CGAN, cgan.SMALL_CGAN, cnn.FASHION_TRAINING,
                   vae.FASHION_VAE_TRAINING, {"n": np.int64(3), "x": np.float32(0.5)}):
        old = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:10]
        assert store.config_key(config) == old


def test_a_config_that_would_change_its_key_every_session_is_refused(models):
    for config in ({"optimizer": object()}, {"schedule": print}):
        with pytest.raises(TypeError, match="session"):
            store.config_key(config)
        with pytest.raises(TypeError, match="session"):
            store.load_or_train("m", config, lambda: 1 / 0)


def test_model_folder_that_is_a_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "models").write_text("not a folder")
    monkeypatch.setenv(store.MODELS_ENV, str(tmp_path / "models"))
    with pytest.raises(NotADirectoryError, match=store.MODELS_ENV):
        store.models_dir()
