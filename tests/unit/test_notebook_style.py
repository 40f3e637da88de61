"""Readable pages: no code line in a chapter is wider than the book's page (88 characters)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINE = 88  # characters; the rendered book shows this many without scrolling sideways
NOTEBOOKS = sorted(
    p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def long_lines(notebook: dict, limit: int = MAX_LINE) -> list[str]:
    """``cell C, line L (N characters): start of the line`` for each code line over ``limit``."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        source = cell["source"]
        text = "".join(source) if isinstance(source, list) else source
        for number, line in enumerate(text.splitlines(), start=1):
            if len(line) > limit:
                found.append(f"cell {index}, line {number} ({len(line)} characters): {line[:60]}...")
    return found


def test_long_lines_are_found_and_located():
    notebook = {
        "cells": [
            {"cell_type": "markdown", "source": "x" * 200},
            {"cell_type": "code", "source": ["short\n", "y" * 89 + "\n", "z" * 88]},
        ]
    }
    assert long_lines(notebook) == [f"cell 1, line 2 (89 characters): {'y' * 60}..."]


def test_there_are_notebooks_to_check():
    assert NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    found = long_lines(json.loads(path.read_text(encoding="utf-8")))
    where = path.relative_to(ROOT)
    assert not found, (
        f"{where}: {len(found)} code line(s) longer than {MAX_LINE} characters "
        "(cell = index in the notebook's cells, from 0):\n" + "\n".join(found)
    )
