"""Restart and run all, from any folder: notebooks do not depend on the current directory.

What proves "top to bottom in a fresh kernel": the test command runs every
notebook under nbval (each in a new kernel; on a clean clone this run trains
and stores the models, and later chapters load the models earlier ones
stored), and ``tests/build`` renders what that run produced (the
repository's ``conftest.py`` puts it in Jupyter Book's execution cache).

What that run shares with a reader's is the current folder (the notebook's own,
``book/``).  A student may start Jupyter elsewhere, or run the notebooks on
Colab (``/content``).  Three checks cover that, cheapest first:

1. the folders the package reads and writes are absolute and the same from
   any current folder (the model store, the dataset search path);
2. no notebook changes directory or names a relative file path;
3. the two fastest notebooks (by ``benchmarks/results.csv``) among those
   that load no stored model run top to bottom in a fresh kernel started in
   an empty, unrelated folder, and write nothing there.  Running every notebook a third time would cost minutes of
   CI for little more: (1) and (2) are what makes a notebook folder-bound.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from visionbook import data, store

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)

#: A string literal that looks like a relative path to a file the notebook
#: reads or writes ("x.png", "data/y.npz", "../z.csv").
RELATIVE_FILE = re.compile(
    r"""(?<![\w{}])["'](?:\.{1,2}/)?[\w\-]+(?:/[\w\-.]+)*\.(?:png|jpe?g|gif|npy|npz|csv|json|keras|h5|txt|pkl|gz)["']"""
)
CHANGES_FOLDER = re.compile(r"\bos\.chdir\(|%cd\b|\bPath\.cwd\(|\bos\.getcwd\(")


def test_package_folders_do_not_depend_on_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(store.MODELS_ENV, raising=False)
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    here = store.models_dir()
    assert here == ROOT / "models"
    monkeypatch.chdir(tmp_path)
    assert store.models_dir() == here
    assert all(folder.is_absolute() for folder in data.fashion_mnist_search_path())
    env = {k: v for k, v in os.environ.items() if k not in (store.MODELS_ENV, data.DATA_DIR_ENV)}
    result = subprocess.run(
        [sys.executable, "-c", "from visionbook import store; print(store.models_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(result.stdout.strip().splitlines()[-1]) == here
    assert not any(tmp_path.iterdir()), "importing visionbook wrote into the current folder"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_names_no_relative_file_and_never_changes_folder(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    problems = []
    for number, cell in enumerate(cells, 1):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        for pattern, what in ((RELATIVE_FILE, "relative file path"), (CHANGES_FOLDER, "current-folder use")):
            problems += [f"cell {number}: {what} {m.group(0)}" for m in pattern.finditer(source)]
    assert not problems, (
        f"{notebook.name} depends on the current folder (Colab and other launchers start "
        f"elsewhere); use visionbook's folders or a tempfile instead: {problems}"
    )


#: A call that trains and stores a model when the model store lacks it.
TRAINS_IF_MISSING = re.compile(r"\btrained_\w+\(|\bload_or_train\(|\bexperiment_results\(")


def _trains_if_missing(notebook: Path) -> bool:
    cells = json.loads(notebook.read_text())["cells"]
    return any(TRAINS_IF_MISSING.search("".join(c["source"])) for c in cells if c["cell_type"] == "code")


def _fastest_notebooks(count: int = 2) -> list[Path]:
    """The fastest notebooks that train nothing through the model store.

    The timings in results.csv come from one run in chapter order, when a
    later chapter finds the earlier chapters' models stored. This test runs
    before nbval, often with an empty store: a notebook that loads a model
    (the FAQ loads the CNN) would train it here, past the cell time-out on a
    slow CPU.
    """
    with open(ROOT / "benchmarks" / "results.csv") as handle:
        rows = [r for r in csv.DictReader(handle) if r["notebook"].endswith(".ipynb")]
    rows.sort(key=lambda r: float(r["seconds"]))
    paths = [ROOT / r["notebook"] for r in rows]
    chosen = [p for p in paths if p.is_file() and not _trains_if_missing(p)][:count]
    assert len(chosen) == count, "benchmarks/results.csv lists too few existing notebooks"
    return chosen


@pytest.mark.parametrize("notebook", _fastest_notebooks(), ids=lambda p: p.name)
def test_fast_notebook_runs_from_an_unrelated_folder(notebook, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    book = nbformat.read(notebook, as_version=4)
    # The kernel starts in `elsewhere`, as it would on Colab or from another folder.
    client = nbclient.NotebookClient(
        book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(elsewhere)}}
    )
    client.execute()
    errors = [o for c in book.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"{notebook.name} failed from {elsewhere}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert not any(elsewhere.iterdir()), f"{notebook.name} wrote into the current folder: {list(elsewhere.iterdir())}"
