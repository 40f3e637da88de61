"""One folder of trained models, so that no chapter trains what another saved.

Each model is stored as ``<name>-<key>.keras`` with a JSON record beside it
(``<name>-<key>.json``: history, training seconds, test results).  The key is
a hash of the training configuration, so changing a hyper-parameter trains a
new model instead of silently reusing an old one.  Files are written to a
temporary name and renamed, so an interrupted run never leaves a half-written
model; models are loaded with Keras's ``safe_mode``; a file that cannot be
loaded, or one left without its partner by an interrupted run, is moved
aside (never deleted) and the model is trained again. :func:`save` never
replaces a stored model unless asked (``overwrite=True``).

The folder is ``$VISIONBOOK_MODELS`` if set, else ``models/`` at the root of
the book's repository, else ``visionbook-models/`` in the current folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np

from visionbook import checks

MODELS_ENV = "VISIONBOOK_MODELS"


def models_dir() -> Path:
    """The folder that holds trained models (created on first use)."""
    if os.environ.get(MODELS_ENV, "").strip():
        folder, how = Path(os.environ[MODELS_ENV]), f"{MODELS_ENV} (environment variable)"
    else:
        repo = Path(__file__).resolve().parents[2]
        folder = (
            repo / "models"
            if (repo / "_toc.yml").is_file()
            else Path.cwd() / "visionbook-models"
        )
        how = "the model folder"
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{how}: {folder} is a file, not a folder; name a folder for the models.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise type(err)(
            f"{how}: the folder {folder} cannot be created ({err.strerror or err}); "
            f"set {MODELS_ENV} to a folder you can write to."
        ) from err
    return folder


def config_key(config: dict[str, Any]) -> str:
    """A short, stable hash of a training configuration of plain data (see :func:`checks.config_text`).

    A value whose text changes between sessions (an object shown with its
    memory address) is refused, since it would retrain the model every time.
    """
    text = checks.config_text(config, "config")
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def arrays_path(name: str, config: dict[str, Any]) -> Path:
    """The ``.npz`` path for arrays kept beside a model (sample grids, curves)."""
    model_path, _ = model_paths(name, config)
    return model_path.with_suffix(".npz")


def model_paths(name: str, config: dict[str, Any]) -> tuple[Path, Path]:
    """The ``.keras`` and ``.json`` paths for ``name`` trained with ``config``."""
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}.")
    if (
        not name or name.startswith(".") or len(name) > 100
        or not all(c.isascii() and (c.isalnum() or c in "._-") for c in name)
    ):
        raise ValueError(
            f"model name {name!r} must be a plain file name stem: ASCII letters, digits, "
            "'.', '_' and '-', not starting with '.'."
        )
    stem = f"{name}-{config_key(config)}"
    folder = models_dir()
    return folder / f"{stem}.keras", folder / f"{stem}.json"


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=path.suffix)
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


_SAVEZ_RESERVED = {"file", "args", "kwds", "allow_pickle"}


def _check_saveable(model: object, record: object, arrays: object, *, model_required: bool = True) -> None:
    if model_required and not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}.")
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict (history, results...), got {type(record).__name__}.")
    if arrays is None:
        return
    if not isinstance(arrays, dict):
        raise TypeError(f"arrays must be a dict of NumPy arrays, got {type(arrays).__name__}.")
    for key, value in arrays.items():
        if not isinstance(key, str) or not key.isidentifier() or key in _SAVEZ_RESERVED:
            raise ValueError(
                f"arrays key {key!r} must be a Python identifier other than {sorted(_SAVEZ_RESERVED)}."
            )
        array = np.asarray(value)
        if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(
                f"arrays[{key!r}] must be a numeric array (it is loaded without pickle), got dtype {array.dtype}."
            )


def _move_aside(*paths: Path) -> str:
    """Rename the existing ``paths`` to ``<name>.unreadable-<time>`` (never delete); return the time stamp.

    A name already taken (two moves in one second) gets a number, so no
    earlier copy is replaced.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    taken = lambda s: any(p.with_name(f"{p.name}.unreadable-{s}").exists() for p in paths)  # noqa: E731
    base, number = stamp, 1
    while taken(stamp):
        stamp, number = f"{base}-{number}", number + 1
    for path in paths:
        if path.exists():
            path.rename(path.with_name(f"{path.name}.unreadable-{stamp}"))
    return stamp


def _set_aside_incomplete(paths: tuple[Path, ...], what: str) -> None:
    """Move aside what an interrupted run left (some of an entry's files, not all): never delete it."""
    left = [p for p in paths if p.exists()]
    if left:
        stamp = _move_aside(*left)
        warnings.warn(
            f"{', '.join(p.name for p in left)}: an incomplete stored {what} (an interrupted run?) was "
            f"moved aside to *.unreadable-{stamp}; it will be made again.",
            stacklevel=3,
        )


def save(
    model: keras.Model,
    name: str,
    config: dict[str, Any],
    record: dict[str, Any],
    arrays: dict[str, np.ndarray] | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Save ``model``, its ``record`` and optional ``arrays`` atomically.

    The record is written last, and :func:`load` needs it, so a run that is
    interrupted part-way leaves nothing that a later run would trust. A
    model already stored under ``name`` and ``config`` is kept (a
    ``FileExistsError`` says so) unless ``overwrite=True``.
    """
    _check_saveable(model, record, arrays)
    overwrite = checks.check_flag(overwrite, "overwrite")
    model_path, record_path = model_paths(name, config)
    if not overwrite:
        taken = [p for p in (model_path, record_path, arrays_path(name, config)) if p.exists()]
        if taken:
            raise FileExistsError(
                f"a model is already stored as {name!r} with this config ({', '.join(p.name for p in taken)} "
                f"in {model_path.parent}); it was kept. Pass overwrite=True to replace it, or use another name."
            )
    record = {**record, "name": name, "config": config, "saved_at": time.time()}
    if arrays:
        _atomic_write(arrays_path(name, config), lambda p: np.savez_compressed(p, **arrays))
    elif arrays_path(name, config).exists():  # the replaced model's arrays: kept, but not as this one's
        _move_aside(arrays_path(name, config))
    _atomic_write(model_path, lambda p: model.save(p))
    _atomic_write(record_path, lambda p: p.write_text(json.dumps(record, indent=1, default=str)))
    return model_path


def load(name: str, config: dict[str, Any]) -> tuple[keras.Model, dict[str, Any]] | None:
    """Load a stored model and its record, or return None if there is none.

    A file that exists but cannot be loaded (damaged, from an incompatible
    Keras, or not a model) is renamed to ``*.unreadable-<time>`` with a
    warning that says so, and None is returned so the caller retrains.
    """
    model_path, record_path = model_paths(name, config)
    if not model_path.is_file() or not record_path.is_file():
        return None
    try:
        model = keras.saving.load_model(model_path, safe_mode=True)
        record = json.loads(record_path.read_text())
        extra = arrays_path(name, config)
        if extra.is_file():
            with np.load(extra, allow_pickle=False) as stored:
                record["arrays"] = {key: stored[key] for key in stored.files}
        if not isinstance(model, keras.Model):
            raise TypeError(f"it holds a {type(model).__name__}, not a keras.Model")
    except Exception as err:  # any failure means: do not trust this file
        stamp = _move_aside(model_path, record_path, arrays_path(name, config))
        warnings.warn(
            f"Could not load {model_path} ({err}). It was moved aside to "
            f"{model_path.name}.unreadable-{stamp}; the model will be trained again.",
            stacklevel=2,
        )
        return None
    return model, record


def load_or_train(
    name: str,
    config: dict[str, Any],
    train: Callable[[], tuple[keras.Model, dict[str, Any]]],
) -> tuple[keras.Model, dict[str, Any]]:
    """Return the stored model for ``(name, config)``, training it if missing.

    ``train`` returns ``(model, record)``; ``record["arrays"]``, if present,
    is a dict of NumPy arrays kept in an ``.npz`` file; the rest is saved beside the
    model and gains ``"loaded_from_store": True`` when read back later, so a
    chapter can say whether it trained now or reused a saved run. The record
    also keeps ``"wall_seconds"``: how long ``train`` took in all, data
    preparation included (``benchmarks/run_notebooks.py`` lists it for every
    stored model).
    """
    if not callable(train):
        raise TypeError(f"train must be a function returning (model, record), got {type(train).__name__}.")
    stored = load(name, config)
    if stored is not None:
        model, record = stored
        return model, {**record, "loaded_from_store": True}
    _set_aside_incomplete((*model_paths(name, config), arrays_path(name, config)), "model")
    start = time.perf_counter()
    result = train()
    wall_seconds = time.perf_counter() - start
    if not (isinstance(result, tuple) and len(result) == 2):
        raise TypeError(f"train must return (model, record), got {type(result).__name__}.")
    model, record = result
    _check_saveable(model, record, record.get("arrays") if isinstance(record, dict) else None)
    record = {"wall_seconds": wall_seconds, **record}
    arrays = record.pop("arrays", None)
    save(model, name, config, record, arrays)
    if arrays:
        record["arrays"] = arrays
    return model, {**record, "loaded_from_store": False}


def results_paths(name: str, config: dict[str, Any]) -> tuple[Path, Path]:
    """The ``.results.json`` and ``.results.npz`` paths of a stored result (no model)."""
    model_path, _ = model_paths(name, config)
    stem = model_path.with_suffix("").name
    return model_path.with_name(f"{stem}.results.json"), model_path.with_name(f"{stem}.results.npz")


def load_or_compute(
    name: str,
    config: dict[str, Any],
    compute: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """Return the stored result for ``(name, config)``, computing it if missing.

    For experiments whose product is a table, not a model: ``compute``
    returns a JSON-serialisable dict whose optional ``"arrays"`` entry is a
    dict of NumPy arrays (kept in an ``.npz`` file). The JSON file is
    written last, so an interrupted run leaves nothing a later run would
    trust; a stored result that cannot be read is moved aside with a warning
    and computed again. The result gains ``"loaded_from_store"``, and
    ``"wall_seconds"`` (how long ``compute`` took) as :func:`load_or_train`.
    """
    if not callable(compute):
        raise TypeError(f"compute must be a function returning a dict, got {type(compute).__name__}.")
    record_path, array_path = results_paths(name, config)
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text())
            if array_path.is_file():
                with np.load(array_path, allow_pickle=False) as stored:
                    record["arrays"] = {key: stored[key] for key in stored.files}
            return {**record, "loaded_from_store": True}
        except Exception as err:  # damaged or foreign: do not trust it
            stamp = _move_aside(record_path, array_path)
            warnings.warn(
                f"Could not read {record_path} ({err}). It was moved aside to "
                f"{record_path.name}.unreadable-{stamp}; the result will be computed again.",
                stacklevel=2,
            )
    start = time.perf_counter()
    result = compute()
    wall_seconds = time.perf_counter() - start
    if not isinstance(result, dict):
        raise TypeError(f"compute must return a dict, got {type(result).__name__}.")
    record = {"wall_seconds": wall_seconds, **{k: v for k, v in result.items() if k != "arrays"}}
    arrays = result.get("arrays")
    _check_saveable(None, result, arrays, model_required=False)
    _set_aside_incomplete((record_path, array_path), "result")
    if arrays:
        _atomic_write(array_path, lambda p: np.savez_compressed(p, **arrays))
    stored = {**record, "name": name, "config": config, "saved_at": time.time()}
    _atomic_write(record_path, lambda p: p.write_text(json.dumps(stored, indent=1, default=str)))
    return {**stored, **({"arrays": arrays} if arrays else {}), "loaded_from_store": False}
