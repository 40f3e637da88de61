"""House rules of the repository: every notebook in the book, none with outputs."""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.add(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


def _notebooks() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_every_notebook_is_in_the_table_of_contents():
    listed = _toc_files()
    missing = [str(p.relative_to(ROOT)) for p in _notebooks() if str(p.relative_to(ROOT).with_suffix("")) not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [f for f in _toc_files() if not any((ROOT / f).with_suffix(s).exists() for s in (".ipynb", ".md"))]
    assert not absent, f"_toc.yml lists files that do not exist: {absent}"


def test_notebooks_are_stored_without_outputs():
    dirty = []
    for path in _notebooks():
        notebook = json.loads(path.read_text())
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(str(path.relative_to(ROOT)))
                break
    assert not dirty, f"strip outputs (jupyter nbconvert --clear-output --inplace): {dirty}"


def test_there_are_chapters():
    assert len(_notebooks()) >= 4


def test_the_license_file_matches_the_package_metadata():
    declared = re.search(r'^license = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    text = (ROOT / "LICENSE").read_text()
    assert declared == "MIT" and text.startswith("MIT License"), (declared, text[:40])
