"""The whole book builds: every notebook executes, and any warning is an error.

It runs after the notebooks' own tests (nbval), so the models they trained are
in the model store and the build reuses them instead of training again.
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


def test_book_builds_without_warnings(tmp_path):
    build = ROOT / "_build"
    shutil.rmtree(build / ".jupyter_cache", ignore_errors=True)  # execute every notebook
    shutil.rmtree(build / "html", ignore_errors=True)
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
    if before:  # nbval ran first and stored every model: the build must only load them
        trained_again = sorted(_stored() - before)
        assert not trained_again, f"the book build trained or computed again: {trained_again}"
    for notebook in (ROOT / "book").glob("*.ipynb"):
        page = build / "html" / "book" / f"{notebook.stem}.html"
        assert page.exists(), f"{page} was not written"
        html = page.read_text()
        assert "Traceback (most recent call last)" not in html, f"{page} shows a traceback"
        assert "<img" in html, f"{page} shows no figure"
