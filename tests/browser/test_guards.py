"""The checks themselves work: on a tiny book built in a temporary folder with
this repository's configuration, each defect makes the build or the browser
check fail with a message that names the file.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import struct
import sys
import urllib.request
import zlib
from pathlib import Path

import pytest

import bookcheck
from bookcheck import ROOT



def tiny_png() -> bytes:
    """A valid 2x2 grey PNG, so the tiny book has a real image to lose."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)  # 2x2, 8-bit grayscale
    pixels = zlib.compress(b"\x00\x80\x80" * 2)  # each row: filter byte, two pixels
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


TOC = """format: jb-book
root: book/intro
chapters:
  - file: book/second
"""


def tiny_book(folder: Path, intro: str, extra: dict[str, str] | None = None) -> Path:
    """A book with this repository's _config.yml, _ext and bibliography, and the given pages."""
    (folder / "book" / "images").mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    shutil.copytree(ROOT / "_ext", folder / "_ext")
    for name in ("references.bib", "images/logo.svg", "images/favicon.svg"):
        shutil.copy(ROOT / "book" / name, folder / "book" / name)
    (folder / "_toc.yml").write_text(TOC)
    (folder / "book" / "images" / "dot.png").write_bytes(tiny_png())
    (folder / "book" / "intro.md").write_text(intro)
    (folder / "book" / "second.md").write_text("# Second page\n\nA page after the first, citing {cite:p}`xiao2017fashion`.\n\n```{bibliography}\n```\n")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


def build(folder: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    return subprocess.run(
        [str(jupyter_book), "build", str(folder), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"}, cwd=folder,
    )


def markdown_notebook(text: str) -> str:
    return json.dumps({
        "cells": [{"cell_type": "markdown", "id": "only", "metadata": {}, "source": text}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


def test_defects_fail_the_build_naming_the_file(tmp_path):
    book = tiny_book(tmp_path, (
        "# Intro\n\n"
        "See {ref}`a-label-that-does-not-exist`.\n\n"
        "![a picture that is not there](images/missing.png)\n"
    ), extra={"book/forgotten.ipynb": markdown_notebook("# A chapter nobody listed\n")})
    result = build(book)
    log = result.stdout + result.stderr
    assert result.returncode != 0, "a book with a broken reference, a missing image and an unlisted notebook built"
    problems = {
        "broken cross-reference": ("intro.md", "a-label-that-does-not-exist"),
        "missing image": ("intro.md", "missing.png"),
        "notebook left out of _toc.yml": ("forgotten.ipynb", "toctree"),
    }
    for what, (file_name, clue) in problems.items():
        assert any(file_name in line and clue in line for line in log.splitlines()), (
            f"the build log does not report the {what} naming {file_name}:\n{log[-4000:]}")


def test_browser_check_reports_a_lost_image_a_broken_link_and_internet_use(tmp_path, browser):
    book = tiny_book(tmp_path, "# Intro\n\n![a dot](images/dot.png)\n\nRead the {doc}`second page <second>`.\n")
    result = build(book)
    assert result.returncode == 0, f"the tiny book did not build:\n{(result.stdout + result.stderr)[-4000:]}"
    html = book / "_build" / "html"
    pages = ["book/intro.html", "book/second.html"]
    with bookcheck.StaticServer(html) as server:
        clean = {page: bookcheck.visit(browser, server.url(page), server.base) for page in pages}
        for page, report in clean.items():
            assert not bookcheck.problems_of(report, page, notebook=False), bookcheck.problems_of(report, page, False)
        assert not bookcheck.broken_links(clean, html, server.base)

        # Lose the image, point a link at a page that does not exist, and load
        # a script from a CDN (as the book did for MathJax before it went offline).
        for image in (html / "_images").glob("dot*.png"):
            image.unlink()
        intro = html / "book" / "intro.html"
        cdn = '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script></head>'
        intro.write_text(intro.read_text().replace('href="second.html"', 'href="gone.html"').replace("</head>", cdn))
        broken = {page: bookcheck.visit(browser, server.url(page), server.base) for page in pages}
        problems = bookcheck.problems_of(broken["book/intro.html"], "book/intro.html", notebook=False)
        assert any("book/intro.html: image did not load" in p and "dot" in p for p in problems), problems
        assert any("book/intro.html: failed request" in p and "dot" in p for p in problems), problems
        assert any("book/intro.html: requests the internet: https://cdn.jsdelivr.net" in p for p in problems), problems
        links = bookcheck.broken_links(broken, html, server.base)
        assert "book/intro.html -> book/gone.html (no such file)" in links, links


@pytest.mark.parametrize("output, caught, flagged", [
    ("ValueError: shapes do not match", False, True),
    ("ValueError: shapes do not match", True, False),
    ("Traceback (most recent call last):\n  File ...", True, True),
    ("accuracy: 0.91, error rate 9%", False, False),
])
def test_error_text_in_outputs_is_recognised(output, caught, flagged):
    """Error messages in outputs fail the page unless the cell caught the error to show it."""
    source = "try:\n    f()\nexcept ValueError as err:\n    print(err)" if caught else "f()"
    report = bookcheck.PageReport(url="x")
    bookcheck.judge_cells(report, [{"input": source, "output": output, "flagged": 0}])
    assert bool(report.error_outputs) == flagged, report.error_outputs


def test_served_pages_are_never_cached(tmp_path):
    """The checks edit served files and load them again: the browser must fetch the new copy."""
    (tmp_path / "index.html").write_text("<p>hello</p>")
    with bookcheck.StaticServer(tmp_path) as server:
        with urllib.request.urlopen(server.url("index.html"), timeout=30) as response:
            assert response.headers.get("Cache-Control") == "no-store", dict(response.headers)
