"""Pytest plugin for the notebooks: what nbval ran is what the book shows.

nbval executes every chapter in a fresh kernel and checks its assertions,
cell by cell. Without this plugin the book build would then execute every
chapter a second time to get its outputs: with the models stored by the
first run nothing trains twice, but all the rest (judging thousands of
samples, drawing every figure, starting TensorFlow thirteen times) does,
and on a slow 2-core CPU that second pass costs a large share of the test run.

So, for each notebook whose every cell passed, this plugin writes the notebook
with the outputs nbval received into Jupyter Book's execution cache
(``_build/.jupyter_cache``, the ``cache`` execution mode in ``_config.yml``).
The build finds each chapter there, keyed by a hash of its code, and renders
those outputs without executing it (``tests/build`` checks that it executed
nothing). A chapter that failed, was skipped or changed since is not in the
cache, so the build executes it as before. The student edition and the
slides read the same cache.

The kernels draw with Jupyter's inline backend, as a reader's do: the
``MPLBACKEND`` the other tests set (Agg) is removed while a notebook's kernel
starts, or the figures would be missing from the book.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "_build" / ".jupyter_cache"

_failed: set[Path] = set()
_seconds: dict[Path, float] = {}


def _notebook_cell(item: pytest.Item) -> Any | None:
    """The nbval cell item's cell, or None for any other test."""
    cell = getattr(item, "cell", None)
    if cell is None or getattr(item, "path", Path()).suffix != ".ipynb":
        return None
    return cell


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    """Start a notebook's kernel without the tests' MPLBACKEND (figures stay inline)."""
    if _notebook_cell(item) is None or "MPLBACKEND" not in os.environ:
        yield
        return
    saved = os.environ.pop("MPLBACKEND")
    try:
        yield
    finally:
        os.environ["MPLBACKEND"] = saved


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Time each cell; after a notebook's last cell, cache it if every cell passed."""
    cell = _notebook_cell(item)
    start = time.perf_counter()
    yield
    if cell is None:
        return
    path = item.path.resolve()
    _seconds[path] = _seconds.get(path, 0.0) + time.perf_counter() - start
    outputs = getattr(item, "test_outputs", None)
    if outputs is None:  # skipped, or failed before it ran
        _failed.add(path)
    else:
        cell.outputs = list(outputs)
    last = nextitem is None or getattr(nextitem, "parent", None) is not item.parent
    if last and path not in _failed:
        _cache(path, item.parent.nb, _seconds[path])


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and report.nodeid.split("::")[0].endswith(".ipynb"):
        _failed.add((ROOT / report.nodeid.split("::")[0]).resolve())


def _cache(path: Path, notebook: Any, seconds: float) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    CACHE.parent.mkdir(parents=True, exist_ok=True)
    get_cache(str(CACHE)).cache_notebook_bundle(
        CacheBundleIn(notebook, str(path), data={"execution_seconds": seconds}),
        check_validity=False,
        overwrite=True,
    )
