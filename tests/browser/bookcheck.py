"""Drive headless Chromium over a built book and report what a reader would see.

Selenium talks to Debian's ``chromium-driver``, which is built from the same
source and version as Debian's ``chromium``, so the pair always matches and
nothing is downloaded: the driver's path is given explicitly, so Selenium
Manager (which would fetch a driver) never runs.

The book is served over HTTP on 127.0.0.1 (a port the OS picks), as a reader
or a host would see it. Each visit records the browser's console messages and
every network request through Chromium's performance log.

Every step waits for the element or state it then checks (an element
present, the document loaded, fonts and images ready, a formula typeset),
never for a fixed time or a changed URL: a slow or busy machine only makes
the waits longer. :data:`WAIT_SECONDS` bounds each wait; it is generous, and
costs nothing when the state arrives sooner.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# This repository's built book.
ROOT = Path(__file__).resolve().parents[2]
BOOK_HTML = ROOT / "_build" / "html"
STUDENT_HTML = ROOT / "_build" / "student" / "html"
STUDENT_NOTEBOOKS = ROOT / "_build" / "student" / "notebooks"
SLIDES = ROOT / "_build" / "slides"
SCREENSHOTS = ROOT / "_build" / "screenshots"

#: The longest any single wait may take (seconds): loading a page, typesetting
#: its formulas, an element appearing. A wait ends as soon as its state
#: holds, so this bound matters only on a machine that is very slow or
#: under heavy load, where a short one would fail a correct book.
WAIT_SECONDS = float(os.environ.get("VISIONBOOK_BROWSER_WAIT", "180"))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"

# Flags for a quiet, offline, root-friendly headless Chromium. Without the
# background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--lang=en-US",
    "--window-size=1280,900",
)

# An error message shown as a cell's output: "ValueError: ...", "UserWarning: ...".
ERROR_LINE = re.compile(r"^\s*(\w+\.)*\w*(Error|Exception|Warning): ", re.MULTILINE)
TRACEBACK = "Traceback (most recent call last)"


def browser_available() -> bool:
    """Whether Debian's chromium and chromium-driver are installed."""
    return all(shutil.which(program) for program in (CHROMIUM, CHROMEDRIVER))


def start_browser(profile_dir: Path):
    """A headless Chromium controlled by Selenium, logging console and network events."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_SECONDS)
    # _DESCRIBE_PAGE waits up to WAIT_SECONDS for each of four things.
    driver.set_script_timeout(5 * WAIT_SECONDS)
    # Selenium gives up on a command after its client timeout (120 s by
    # default), shorter than the waits above on a slow machine.
    driver.command_executor.client_config.timeout = 6 * WAIT_SECONDS
    driver.get("about:blank")
    wait_for(driver, document_complete, "about:blank to load")
    drain_logs(driver)  # start-up messages are not the first page's
    return driver


def wait_for(driver, condition, what: str, seconds: float | None = None):
    """Wait until ``condition(driver)`` is truthy and return its value; fail naming ``what``."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    timeout = WAIT_SECONDS if seconds is None else seconds
    # An element found while the page changes may vanish before it is read: try again.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, ignored_exceptions=ignored).until(
        condition, f"waited {timeout:.0f} s for {what}"
    )


def document_complete(driver) -> bool:
    """The document and everything it loads (scripts, styles, images) has loaded."""
    return driver.execute_script("return document.readyState") == "complete"


def open_page(driver, url: str, css: str = "article.bd-article"):
    """Load ``url`` and wait until it has loaded and shows an element ``css``; return that element."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver.get(url)
    wait_for(driver, document_complete, f"{url} to load")
    return wait_for(driver, EC.presence_of_element_located((By.CSS_SELECTOR, css)), f"{css} on {url}")


def settled(driver) -> bool:
    """Loaded, fonts ready and every image decoded: what a screenshot needs."""
    return bool(driver.execute_script(
        "return document.readyState === 'complete'"
        " && (!document.fonts || document.fonts.status === 'loaded')"
        " && [...document.images].every(img => img.complete);"
    ))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files silently and forbid the browser to cache them.

    Without ``Cache-Control`` Chromium may reuse a page for a while after its
    first load (heuristic freshness, a tenth of the time since the file's
    Last-Modified), so a check that edits a served file and loads it again
    could judge the old copy. ``no-cache`` would not do: revalidation compares
    whole seconds, and an edit can fall in the same second as the build.
    """

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class StaticServer:
    """Serve a folder on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, folder: Path):
        if not (folder / "index.html").is_file():
            raise FileNotFoundError(f"{folder} holds no index.html: build the book first")
        handler = functools.partial(QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base, path)

    def __enter__(self) -> StaticServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def toc_pages(toc_file: Path) -> list[str]:
    """Every page of the table of contents, in reading order, as 'book/xx.html'."""
    toc = yaml.safe_load(toc_file.read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return [f"{page}.html" for page in pages]


TOC_PAGES = toc_pages(ROOT / "_toc.yml")
NOTEBOOK_PAGES = [page for page in TOC_PAGES if (ROOT / page).with_suffix(".ipynb").is_file()]


@dataclass
class PageReport:
    """What one page showed and requested."""

    url: str
    title: str = ""
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    output_images: int = 0
    cells: int = 0
    error_outputs: list[str] = field(default_factory=list)
    math_total: int = 0
    math_errors: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    prev_url: str | None = None
    next_url: str | None = None


# Runs in the page: wait for MathJax and every image, then describe the page.
# arguments[0] bounds each wait, in milliseconds (WAIT_SECONDS).
_DESCRIBE_PAGE = """
const limit = arguments[0];
const done = arguments[arguments.length - 1];
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));
const within = (promise) => Promise.race([promise, sleep(limit)]);
(async () => {
  // Wait until the document is parsed and loaded, and until MathJax, where
  // the page loads it, has started and typeset the page (each up to limit).
  const start = Date.now();
  while (document.readyState !== "complete" && Date.now() - start < limit) await sleep(50);
  // Only a MathJax served by this machine is worth waiting for: one from
  // elsewhere cannot load offline, and the request itself is reported.
  const wantsMathJax = [...document.scripts].some(s => /mathjax/i.test(s.src || "")
      && new URL(s.src, location.href).origin === location.origin);
  const started = Date.now();
  while (wantsMathJax && !(window.MathJax && MathJax.startup && MathJax.startup.promise)
         && Date.now() - started < limit) {
    await sleep(50);
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await within(MathJax.startup.promise); } catch (e) {}
  }
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null :
      new Promise(resolve => { img.onload = img.onerror = resolve; setTimeout(resolve, limit); })));
  const broken = images.filter(img => !(img.complete && img.naturalWidth > 0))
                       .map(img => img.getAttribute("src"));
  const outputs = [...document.querySelectorAll(".cell_output")];
  const outputImages = outputs.reduce((n, o) =>
      n + [...o.querySelectorAll("img")].filter(i => i.naturalWidth > 0).length, 0);
  const cellTexts = [...document.querySelectorAll("div.cell")].map(cell => {
    const input = cell.querySelector(".cell_input");
    const output = cell.querySelector(".cell_output");
    return {
      input: input ? input.textContent : "",
      output: output ? output.textContent : "",
      flagged: output ? output.querySelectorAll(".traceback, .output.error, .output.stderr").length : 0,
    };
  });
  const math = [...document.querySelectorAll("mjx-container")];
  const mathErrors = [...document.querySelectorAll("mjx-merror, mjx-container [data-mjx-error]")]
      .map(e => e.getAttribute("data-mjx-error") || e.textContent);
  const pending = document.querySelectorAll(".math.notranslate:not(:has(mjx-container))").length;
  const prev = document.querySelector(".prev-next-area a.left-prev");
  const next = document.querySelector(".prev-next-area a.right-next");
  done({
    title: document.title,
    broken: broken,
    outputImages: outputImages,
    cells: cellTexts,
    mathTotal: math.length,
    mathErrors: mathErrors,
    mathPending: pending,
    links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    ids: [...document.querySelectorAll("[id]")].map(e => e.id),
    prev: prev ? prev.href : null,
    next: next ? next.href : null,
  });
})();
"""


def _frame_ids(tree: dict) -> set[str]:
    ids = {tree["frame"]["id"]}
    for child in tree.get("childFrames", []):
        ids |= _frame_ids(child)
    return ids


def drain_logs(driver) -> None:
    for kind in ("browser", "performance"):
        driver.get_log(kind)


def _looks_unfinished(info: dict, url: str) -> bool:
    """Whether the described page lacks what its served HTML has (navigation) or has untypeset formulas."""
    if info["mathPending"]:
        return True
    if info["prev"] is None and info["next"] is None:
        with urllib.request.urlopen(url, timeout=WAIT_SECONDS) as response:
            return b"prev-next-area" in response.read()
    return False


def visit(driver, url: str, base: str) -> PageReport:
    """Load ``url``, wait for formulas and images, and report problems.

    A page whose description looks unfinished (formulas not typeset, or no
    previous/next links although the served file has them) is loaded once
    more: headless Chromium has, rarely, described a page before it was
    complete. A real defect shows up on both loads and is reported.
    """
    drain_logs(driver)
    driver.get(url)
    info = driver.execute_async_script(_DESCRIBE_PAGE, int(WAIT_SECONDS * 1000))
    if _looks_unfinished(info, url):
        drain_logs(driver)
        driver.get(url)
        info = driver.execute_async_script(_DESCRIBE_PAGE, int(WAIT_SECONDS * 1000))
    report = PageReport(url=url, title=info["title"])

    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            report.console_errors.append(entry["message"])

    # Only the page's own frames count (not traffic of the browser itself).
    frames = _frame_ids(driver.execute_cdp_cmd("Page.getFrameTree", {})["frameTree"])
    requested: dict[str, str] = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message.get("params", {})
        request_id = params.get("requestId", "")
        if method == "Network.requestWillBeSent" and params.get("frameId") in frames:
            request_url = params["request"]["url"]
            requested[request_id] = request_url
            if request_url.startswith(("http:", "https:", "ws:", "wss:")) and not request_url.startswith(base):
                report.external_requests.append(request_url)
        elif method == "Network.responseReceived" and request_id in requested:
            response = params["response"]
            if response["status"] >= 400:
                report.failed_requests.append(f"{response['url']} (HTTP {response['status']})")
        elif method == "Network.loadingFailed" and request_id in requested and not params.get("canceled"):
            where = requested[request_id]
            report.failed_requests.append(f"{where} ({params.get('type', 'request')}: {params.get('errorText')})")

    report.broken_images = [src or "(no src)" for src in info["broken"]]
    report.output_images = info["outputImages"]
    judge_cells(report, info["cells"])
    report.math_total = info["mathTotal"]
    report.math_errors = list(info["mathErrors"])
    if info["mathPending"]:
        report.math_errors.append(f"{info['mathPending']} formulas were not typeset")
    report.links = info["links"]
    report.ids = set(info["ids"])
    report.prev_url = info["prev"]
    report.next_url = info["next"]
    return report


def judge_cells(report: PageReport, cells: list[dict]) -> None:
    """Record tracebacks and error messages shown as cell outputs.

    ``cells`` holds each code cell's ``input`` and ``output`` text and
    ``flagged``, the number of error or stderr output blocks. An error message
    is accepted only in the output of a cell that catches it (``except``), as
    chapters do to show what a wrong call says; a traceback never is.
    """
    report.cells = len(cells)
    for cell in cells:
        output, source = cell["output"], cell["input"][:80]
        if cell["flagged"]:
            report.error_outputs.append(f"an error or stderr output block after: {source!r}")
        if TRACEBACK in output:
            report.error_outputs.append(f"a traceback after: {source!r}")
        elif "except" not in cell["input"] and ERROR_LINE.search(output):
            start = ERROR_LINE.search(output).start()
            report.error_outputs.append(f"{output[start:start + 120].strip()!r} after: {source!r}")


def page_of(url: str, base: str) -> str:
    """'http://127.0.0.1:8000/book/x.html#a' -> 'book/x.html'."""
    path = urllib.parse.urlsplit(url).path
    return urllib.parse.unquote(path[len(urllib.parse.urlsplit(base).path):])


def broken_links(reports: dict[str, PageReport], folder: Path, base: str) -> list[str]:
    """Internal links whose file or anchor does not exist: 'page -> target (why)'."""
    problems = []
    ids_of = {page: report.ids for page, report in reports.items()}
    for page, report in reports.items():
        for link in report.links:
            if not link.startswith(base):
                continue
            parts = urllib.parse.urlsplit(link)
            target = page_of(link, base) or "index.html"
            if target.endswith("/"):
                target += "index.html"
            path = folder / target
            if not path.is_file():
                problems.append(f"{page} -> {target} (no such file)")
                continue
            if parts.fragment and target.endswith(".html"):
                ids = ids_of.get(target)
                if ids is None:
                    ids = set(re.findall(r'\sid="([^"]+)"', path.read_text(errors="replace")))
                    ids_of[target] = ids
                fragment = urllib.parse.unquote(parts.fragment)
                if fragment not in ids:
                    problems.append(f"{page} -> {target}#{fragment} (no such anchor)")
    return sorted(set(problems))


def problems_of(report: PageReport, page: str, notebook: bool) -> list[str]:
    """Everything wrong with one page, each item naming the page."""
    problems = [f"{page}: console error: {m}" for m in report.console_errors]
    problems += [f"{page}: failed request: {r}" for r in report.failed_requests]
    problems += [f"{page}: requests the internet: {r}" for r in report.external_requests]
    problems += [f"{page}: image did not load: {s}" for s in report.broken_images]
    problems += [f"{page}: formula error: {m}" for m in report.math_errors]
    problems += [f"{page}: error in output: {e}" for e in report.error_outputs]
    if notebook and report.output_images == 0:
        problems.append(f"{page}: a chapter notebook that shows no figure")
    return problems
