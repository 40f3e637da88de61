"""Build the student edition: the book with every exercise and no solution.

    .venv/bin/python scripts/build_student.py [--warningiserror] [--keep-going]

(``bash scripts/build-student.sh`` sets up first, then runs this.)

Output, all under ``_build/student/``:

- ``html/``: the book, solutions removed (``hide_solutions``, see
  ``_ext/visionbook_html.py``), with a banner saying it is the student
  edition. Its download buttons give the chapters without solutions.
- ``notebooks/``: the same chapter notebooks, without solutions and outputs,
  an empty cell where each solution was: ready to hand out.

The notebooks are not executed again: the build reads their outputs from the
main build's execution cache (``_build/.jupyter_cache``), so it takes about as
long as an unchanged rebuild of the book. A chapter missing from that cache
(the book was never built, or the chapter changed since) is executed once and
added to it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
import yaml

from solutions import strip_solutions

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "student"
BANNER = "Student edition: every exercise, no solutions."


def toc_notebooks(toc_file: Path = ROOT / "_toc.yml") -> list[Path]:
    """The notebooks the table of contents lists, in reading order."""
    toc = yaml.safe_load(toc_file.read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    notebooks = [(ROOT / name).with_suffix(".ipynb") for name in files]
    return [path for path in notebooks if path.is_file()]


def write_student_notebooks(html: Path) -> int:
    """Write solution-free notebooks to OUT/notebooks and over the HTML's downloads."""
    folder = OUT / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for source in toc_notebooks():
        notebook = strip_solutions(nbformat.read(source, as_version=4))
        relative = source.relative_to(ROOT)
        nbformat.write(notebook, folder / source.name)
        download = html / "_sources" / relative  # what the download button serves
        if download.parent.is_dir():
            nbformat.write(notebook, download)
        written += 1
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-W", "--warningiserror", action="store_true", help="treat warnings as errors")
    parser.add_argument("--keep-going", action="store_true", help="with -W, report every warning before failing")
    args = parser.parse_args(argv)

    # Imported here so that --help works without the book's environment.
    from jupyter_book.sphinx import build_sphinx

    html = OUT / "html"
    os.chdir(ROOT)
    result = build_sphinx(
        ROOT,
        html,
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides={
            "external_toc_path": str(ROOT / "_toc.yml"),
            "latex_individualpages": False,  # jupyter-book expects the key
            "hide_solutions": True,
            "nb_execution_cache_path": str(ROOT / "_build" / ".jupyter_cache"),
            "html_theme_options": {"announcement": BANNER},
        },
        doctreedir=OUT / ".doctrees",
        builder="html",
        warningiserror=args.warningiserror,
        keep_going=args.keep_going,
    )
    if isinstance(result, BaseException):
        print(f"build-student: the build failed: {result!r}", file=sys.stderr)
        return 1
    if result:
        return int(result)
    count = write_student_notebooks(html)
    print(f"build-student: {count} notebooks without solutions in {OUT / 'notebooks'}")
    print(f"build-student: the student edition is at {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
