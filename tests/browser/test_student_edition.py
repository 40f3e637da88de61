"""The student edition (bash scripts/build-student.sh): exercises, and no solution anywhere.

Solution text is collected from the chapter notebooks themselves (everything
between ``solution-start`` and ``solution-end``, and every ``solution``
directive), independently of how the build removes it. A line counts only if
it is long enough to be distinctive and appears nowhere else in its chapter.
The same search must find most of those lines in the teacher's edition, which
shows that the search works, and none in the student edition.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

import bookcheck
from bookcheck import BOOK_HTML, NOTEBOOK_PAGES, ROOT, STUDENT_NOTEBOOKS, wait_for

FENCE_START = re.compile(r"^(`{3,}|:{3,})\{solution(-start)?\}", re.MULTILINE)
MARKUP = set("`*$_[]{}<>\\|#")


def _text(cell) -> str:
    source = cell["source"]
    return "".join(source) if isinstance(source, list) else source


def solution_lines(notebook: Path) -> tuple[list[str], list[str]]:
    """(long solution lines, every line outside solutions) of one chapter notebook."""
    cells = json.loads(notebook.read_text())["cells"]
    inside, solution, other = False, [], []
    for cell in cells:
        text, code = _text(cell), cell["cell_type"] == "code"
        for line in text.splitlines():
            stripped = " ".join(line.split())
            if re.match(r"^(`{3,}|:{3,})\{solution-start\}", stripped):
                inside = True
                continue
            if re.match(r"^(`{3,}|:{3,})\{solution-end\}", stripped):
                inside = False
                continue
            (solution if inside else other).append((stripped, code))
        # single-cell {solution} directives
        if not code:
            for match in re.finditer(r"^(`{3,}|:{3,})\{solution\}[^\n]*\n(.*?)^\1", text, re.MULTILINE | re.DOTALL):
                solution += [(" ".join(l.split()), False) for l in match.group(2).splitlines()]
    others = {line for line, _ in other}
    distinctive = [
        line for line, code in solution
        if len(line) >= (25 if code else 30)
        and (code or not (set(line) & MARKUP)) and not line.startswith(":")
    ]
    return distinctive, sorted(others)


def visible_text(path: Path) -> str:
    """A page's or notebook's text, without tags, entities or extra spaces."""
    raw = path.read_text(errors="replace")
    if path.suffix == ".ipynb":
        raw = "\n".join(_text(cell) for cell in json.loads(raw)["cells"])
    else:
        raw = html.unescape(re.sub(r"<[^>]+>", "", raw))
    return " ".join(raw.split())


def published_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix in {".html", ".ipynb", ".js", ".txt"}
            and "mathjax" not in p.parts]


@pytest.fixture(scope="module")
def solutions() -> dict[str, list[str]]:
    """Each chapter's solution lines that occur nowhere outside a solution in the whole book."""
    split = {page: solution_lines(ROOT / page.replace(".html", ".ipynb")) for page in NOTEBOOK_PAGES}
    lesson_text = " \n ".join(line for _, others in split.values() for line in others)
    found = {page: [line for line in lines if line not in lesson_text] for page, (lines, _) in split.items()}
    assert sum(map(len, found.values())) >= 10, f"too few solution lines found to test with: {found}"
    return found


def test_teacher_edition_shows_the_solutions(solutions):
    """The search below is meaningful: it finds most solution lines in the full book."""
    for page, lines in solutions.items():
        text = visible_text(BOOK_HTML / page)
        found = [line for line in lines if line in text]
        assert len(found) >= 0.8 * len(lines), (
            f"{page}: only {len(found)} of {len(lines)} solution lines found in the teacher's edition; "
            f"missing e.g. {[l for l in lines if l not in text][:3]}")


def test_student_edition_has_no_solution_text(student_html, solutions):
    every_line = [(page, line) for page, lines in solutions.items() for line in lines]
    leaks = []
    for path in published_files(student_html) + sorted(STUDENT_NOTEBOOKS.glob("*.ipynb")):
        text = visible_text(path)
        leaks += [f"{path.relative_to(ROOT)}: {line!r} (a solution of {page})"
                  for page, line in every_line if line in text]
    assert not leaks, "solution text in the student edition:\n" + "\n".join(leaks[:20])


def test_student_edition_keeps_the_exercises(student_html):
    for page in NOTEBOOK_PAGES:
        source = (ROOT / page.replace(".html", ".ipynb")).read_text()
        if "{exercise" not in source:
            continue
        page_html = (student_html / page).read_text()
        assert 'class="exercise' in page_html, f"{page}: the student edition lost its exercises"
        assert 'class="solution' not in page_html, f"{page}: the student edition shows a solution"
        notebook = json.loads((STUDENT_NOTEBOOKS / Path(page).with_suffix(".ipynb").name).read_text())
        texts = [_text(cell) for cell in notebook["cells"]]
        assert not any(FENCE_START.search(t) for t in texts), f"{page}: the student notebook has a solution"
        assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"), \
            f"{page}: the student notebook has outputs"


def test_student_edition_reused_the_execution_cache(student_html):
    """No notebook was executed for the student edition (it read the main build's cache)."""
    log = (student_html.parent / "build.log").read_text()
    assert "Executing notebook" not in log, "the student build executed notebooks instead of using the cache"


def test_student_pages_load_cleanly(student_html, browser):
    with bookcheck.StaticServer(student_html) as server:
        for page in NOTEBOOK_PAGES[:2] + ["book/appendix/glossary.html"]:
            report = bookcheck.visit(browser, server.url(page), server.base)
            problems = bookcheck.problems_of(report, page, notebook=page in NOTEBOOK_PAGES)
            assert not problems, "\n".join(problems)
            banner = wait_for(
                browser, EC.presence_of_element_located((By.CSS_SELECTOR, ".bd-header-announcement")),
                f"the student-edition banner on {page}",
            )
            assert "Student edition" in banner.text, f"{page}: the banner says {banner.text!r}"
