"""Fixtures for the browser tests: the built book, a local server, headless Chromium.

These tests read the HTML that tests/build/test_book_build.py has just built
(``_build/html``). Run on their own, they need a built book first:
``bash scripts/build-book.sh``. Without Debian's ``chromium`` and
``chromium-driver`` they are skipped, except in CI (``CI`` set), where a
missing browser is an error: ``scripts/setup.sh`` installs it there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import bookcheck
from bookcheck import BOOK_HTML, ROOT, STUDENT_HTML, TOC_PAGES


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not bookcheck.browser_available():
        message = (f"headless Chromium is missing ({bookcheck.CHROMIUM}, {bookcheck.CHROMEDRIVER}): "
                   "apt-get install chromium chromium-driver fonts-noto-cjk (scripts/setup.sh does)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    driver = bookcheck.start_browser(tmp_path_factory.mktemp("chromium-profile"))
    yield driver
    driver.quit()


def _serve(folder: Path, what: str):
    if not (folder / "index.html").is_file():
        pytest.fail(f"{folder} has no index.html: {what}")
    return bookcheck.StaticServer(folder)


@pytest.fixture(scope="session")
def book_server():
    with _serve(BOOK_HTML, "build the book first (bash scripts/build-book.sh)") as server:
        yield server


@pytest.fixture(scope="session")
def reports(browser, book_server):
    """Every page of the table of contents, and the general index, visited once."""
    pages = TOC_PAGES + ["genindex.html"]
    return {page: bookcheck.visit(browser, book_server.url(page), book_server.base) for page in pages}


@pytest.fixture(scope="session")
def student_html():
    """The student edition, built by its own command (reusing the execution cache).

    scripts/build-student.sh is scripts/setup.sh followed by this command;
    scripts/test.sh has run the setup already.
    """
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_student.py"), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=1800,
        env={k: v for k, v in os.environ.items() if k != "MPLBACKEND"},
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"scripts/build_student.py failed:\n{log[-6000:]}"
    (STUDENT_HTML.parent / "build.log").write_text(log)
    return STUDENT_HTML
