"""The whole book builds, and any warning is an error.

It runs after the notebooks' own tests (nbval). Each notebook that passed
there is in Jupyter Book's execution cache with the outputs nbval got (see
the repository's conftest.py), so the build renders those outputs and
executes nothing; a notebook missing from the cache (run this test alone, or
change a chapter) is executed, reusing the models in the model store.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _stored() -> set[str]:
    """Names of the trained models and cached results in the model store."""
    from visionbook import store

    folder = store.models_dir()
    return {p.name for p in folder.glob("*") if p.name.endswith((".keras", ".results.json"))}


def _uncached_notebooks(cache_folder: Path) -> list[str]:
    """The chapters the build would have to execute: those the execution cache lacks."""
    import nbformat
    from jupyter_cache import get_cache

    notebooks = sorted((ROOT / "book").glob("*.ipynb"))
    if not (cache_folder / "global.db").is_file():
        return [n.name for n in notebooks]
    cache = get_cache(str(cache_folder))
    missing = []
    for notebook in notebooks:
        try:
            cache.match_cache_notebook(nbformat.read(notebook, as_version=4))
        except KeyError:
            missing.append(notebook.name)
    return missing


def test_book_builds_without_warnings(tmp_path, request):
    build = ROOT / "_build"
    shutil.rmtree(build / "html", ignore_errors=True)
    uncached = _uncached_notebooks(build / ".jupyter_cache")
    passed_nbval = {
        item.path.name for item in request.session.items if getattr(item, "path", Path()).suffix == ".ipynb"
    }
    if passed_nbval and request.session.testsfailed == 0:
        lost = sorted(passed_nbval & set(uncached))
        assert not lost, f"nbval passed these notebooks in this session, but they are not in the execution cache: {lost}"
    before = _stored()
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jupyter_book), "build", str(ROOT), "--warningiserror", "--keep-going"],
        capture_output=True,
        text=True,
        # The notebooks must draw with Jupyter's inline backend: a forced
        # MPLBACKEND (Agg, say) would silently leave every figure out of the book.
        env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"},
        timeout=3600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-8000:]}"
    if not uncached:  # nbval ran and passed every chapter: the build shows its outputs
        assert "Executing notebook" not in log, "the build executed a notebook that nbval had cached"
    if before:  # nbval ran first and stored every model: the build must only load them
        trained_again = sorted(_stored() - before)
        assert not trained_again, f"the book build trained or computed again: {trained_again}"
    for notebook in (ROOT / "book").glob("*.ipynb"):
        page = build / "html" / "book" / f"{notebook.stem}.html"
        assert page.exists(), f"{page} was not written"
        html = page.read_text()
        assert "Traceback (most recent call last)" not in html, f"{page} shows a traceback"
        assert "<img" in html, f"{page} shows no figure"
