"""A chapter exported as slides (scripts/slides.py) works offline in a browser."""

from __future__ import annotations

import subprocess
import sys

from selenium.common.exceptions import TimeoutException

from bookcheck import NOTEBOOK_PAGES, ROOT, SLIDES, StaticServer, problems_of, visit, wait_for


def test_a_chapter_becomes_an_offline_slide_deck(browser):
    page = next((p for p in NOTEBOOK_PAGES if "02_convolution" in p), NOTEBOOK_PAGES[0])
    notebook = ROOT / page.replace(".html", ".ipynb")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "slides.py"), str(notebook)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"scripts/slides.py failed:\n{result.stdout}{result.stderr}"
    deck = f"{notebook.stem}.slides.html"
    assert (SLIDES / deck).is_file() and (SLIDES / "index.html").is_file()

    with StaticServer(SLIDES) as server:
        report = visit(browser, server.url(deck), server.base)
        problems = problems_of(report, deck, notebook=False)
        assert not problems, "\n".join(problems)
        # reveal.js lays the deck out from a script: wait for its slides and a drawn figure.
        counts = "return [document.querySelectorAll('.reveal .slides section').length," \
                 " [...document.images].filter(i => i.complete && i.naturalWidth > 0).length];"
        try:
            wait_for(browser, lambda d: (lambda c: c[0] >= 5 and c[1] >= 1)(d.execute_script(counts)),
                     f"{deck}'s slides and a figure")
        except TimeoutException:
            pass  # the assertions below say what is missing
        slides, images = browser.execute_script(counts)
        assert slides >= 5, f"{deck} has only {slides} slides"
        assert images >= 1, f"{deck} shows no figure"
        assert report.math_total > 0, f"{deck}: no formula was typeset"
        text = browser.execute_script("return document.body.textContent;")
        assert "solution-start" not in text and "{exercise}" not in text, f"{deck} shows raw MyST markup"
