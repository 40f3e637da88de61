"""The built book, read in headless Chromium the way a reader reads it.

Every page of the table of contents is loaded once (fixture ``reports``);
the tests below then check what each page showed and requested. Failures name
the page and the problem. Each step waits for the element or state it checks
(``bookcheck.wait_for``), never for a fixed time or a changed URL.
"""

from __future__ import annotations

import json

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

import bookcheck
from bookcheck import BOOK_HTML, NOTEBOOK_PAGES, ROOT, SCREENSHOTS, TOC_PAGES, wait_for


@pytest.mark.parametrize("page", TOC_PAGES)
def test_page_loads_cleanly(reports, page):
    """No console error, no failed or off-machine request, every image and formula
    rendered, no error in any output, and a figure on every chapter notebook."""
    problems = bookcheck.problems_of(reports[page], page, notebook=page in NOTEBOOK_PAGES)
    assert not problems, "\n".join(problems)


def test_chapters_have_code_cells_and_formulas_render(reports):
    for page in NOTEBOOK_PAGES:
        assert reports[page].cells > 0, f"{page} shows no code cell"
    typeset = [page for page in TOC_PAGES if reports[page].math_total > 0]
    assert "book/appendix/glossary.html" in typeset, "the glossary's formulas were not typeset"
    assert len(typeset) >= 3, f"formulas were typeset on {typeset} only"


def test_internal_links_resolve(reports, book_server):
    problems = bookcheck.broken_links(reports, BOOK_HTML, book_server.base)
    assert not problems, "broken internal links:\n" + "\n".join(problems)


def _heading_text(driver) -> str | bool:
    """The text of the article's first heading once it is shown, else False (keep waiting)."""
    headings = driver.find_elements(By.CSS_SELECTOR, "article.bd-article h1")
    return bool(headings) and headings[0].is_displayed() and headings[0].text.strip() or False


def test_landing_page_opens_the_book(browser, book_server):
    """The site's root forwards to the first page, whose heading names the book."""
    browser.get(book_server.base)
    # The root page only forwards: the heading appears once the first page has loaded.
    heading = wait_for(browser, _heading_text, "the first page's heading (article.bd-article h1)")
    assert "Keras" in heading, f"the landing page's heading is {heading!r}"
    assert browser.current_url.split("#")[0].endswith(TOC_PAGES[0]), (
        f"the root forwarded to {browser.current_url}, not {TOC_PAGES[0]}")


def test_next_and_previous_follow_the_table_of_contents(browser, book_server, reports):
    """Clicking "next" from the first page visits every page in order; "previous" links mirror it."""
    article = bookcheck.open_page(browser, book_server.url(TOC_PAGES[0]))
    visited = [TOC_PAGES[0]]
    while len(visited) <= len(TOC_PAGES):
        # The page has loaded (open_page, or the wait below): a missing link means the last page.
        links = browser.find_elements(By.CSS_SELECTOR, ".prev-next-area a.right-next")
        if not links:
            break
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", links[0])
        wait_for(browser, EC.element_to_be_clickable(links[0]), f"the 'next' link on {visited[-1]}")
        links[0].click()
        # The old page is gone once its article is detached; then wait for the new one.
        wait_for(browser, EC.staleness_of(article), f"the page after {visited[-1]} to replace it")
        wait_for(browser, bookcheck.document_complete, f"the page after {visited[-1]} to load")
        article = wait_for(
            browser, EC.presence_of_element_located((By.CSS_SELECTOR, "article.bd-article")),
            f"the article of the page after {visited[-1]}",
        )
        visited.append(bookcheck.page_of(browser.current_url.split("#")[0], book_server.base))
    assert visited == TOC_PAGES, f"'next' visits {visited}, the table of contents lists {TOC_PAGES}"

    for earlier, later in zip(TOC_PAGES, TOC_PAGES[1:]):
        prev_url = reports[later].prev_url
        assert prev_url and bookcheck.page_of(prev_url, book_server.base) == earlier, (
            f"'previous' on {later} leads to {prev_url}, not {earlier}")


def test_search_finds_convolution(browser, book_server):
    """The search page lists the convolution chapter (it appends results as it goes: wait for it)."""
    browser.get(book_server.url("search.html?q=convolution"))

    def found_targets(driver):
        links = driver.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
        targets = [a.get_attribute("href") for a in links]
        return targets if any("02_convolution" in href for href in targets) else False

    try:
        wait_for(browser, found_targets, "search results that list the convolution chapter")
    except TimeoutException:
        links = browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
        pytest.fail(
            f"search for 'convolution' found {[a.get_attribute('href') for a in links]} "
            f"within {bookcheck.WAIT_SECONDS:.0f} s"
        )


def test_a_solution_opens_on_click(browser, book_server):
    chapter = next(page for page in TOC_PAGES if "02_convolution" in page)
    solution = bookcheck.open_page(browser, book_server.url(chapter), "div.solution.dropdown")
    content = solution.find_element(By.CSS_SELECTOR, "section")
    # sphinx-togglebutton's script collapses each dropdown once the page has
    # loaded: wait for that state (a solution that stays open fails here).
    try:
        wait_for(browser, lambda d: not content.is_displayed(), f"a solution on {chapter} to be collapsed")
    except TimeoutException:
        pytest.fail("a solution is open before it is clicked")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", solution)
    title = solution.find_element(By.CSS_SELECTOR, ".admonition-title")
    wait_for(browser, EC.element_to_be_clickable(title), "the solution's title to be clickable")
    title.click()
    wait_for(browser, lambda d: content.is_displayed(), "the solution to open after a click")
    assert content.text.strip(), "the opened solution is empty"


def test_download_button_offers_the_chapter_notebook():
    for page in NOTEBOOK_PAGES:
        notebook = page.replace(".html", ".ipynb")
        download = BOOK_HTML / "_sources" / notebook
        assert download.is_file(), f"{page}: no notebook to download at {download}"
        cells = json.loads(download.read_text())["cells"]
        source = json.loads((ROOT / notebook).read_text())["cells"]
        assert len(cells) == len(source), f"{download} is not the chapter's notebook"
        assert f'href="../_sources/{notebook}"' in (BOOK_HTML / page).read_text(), \
            f"{page} has no download link to its notebook"


def test_glossary_shows_chinese_terms(reports, browser, book_server):
    bookcheck.open_page(browser, book_server.url("book/appendix/glossary.html"), "dl.glossary dt")
    wait_for(browser, bookcheck.settled, "the glossary's fonts to load")
    terms = [dt.text for dt in browser.find_elements(By.CSS_SELECTOR, "dl.glossary dt")]
    for chinese in ("卷积", "池化", "全连接层", "生成器", "判别器"):
        assert any(chinese in term for term in terms), f"the glossary has no entry {chinese}"
    # A CJK font is installed: a Chinese character is drawn differently from a
    # code point no font has (both would be the same empty box without one).
    differs = browser.execute_script("""
        const draw = text => {
          const canvas = document.createElement('canvas');
          canvas.width = 64; canvas.height = 32;
          const c = canvas.getContext('2d');
          c.font = '24px sans-serif'; c.fillText(text, 4, 26);
          return Array.from(c.getImageData(0, 0, 64, 32).data).join(',');
        };
        return draw('卷') !== draw('\\u{10FFFD}');""")
    assert differs, "Chinese text is drawn without a Chinese font (install fonts-noto-cjk)"


def test_screenshots(browser, book_server):
    """The landing page and two chapters, as PNG files in _build/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    def chapter(stem: str, fallback: int) -> str:
        return next((page for page in NOTEBOOK_PAGES if stem in page), NOTEBOOK_PAGES[fallback])

    shots = {"landing": TOC_PAGES[0], "chapter-cnn": chapter("04_cnn", 0),
             "chapter-gan": chapter("07_adversarial_training", -1)}
    for name, page in shots.items():
        bookcheck.open_page(browser, book_server.url(page))
        wait_for(browser, bookcheck.settled, f"{page}'s fonts and images before its screenshot")
        path = SCREENSHOTS / f"{name}.png"
        assert browser.save_screenshot(str(path)), f"no screenshot of {page}"
        assert path.stat().st_size > 20_000, f"{path} looks blank"
