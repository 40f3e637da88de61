"""Export chapters as reveal.js slide decks that work offline.

    .venv/bin/python scripts/slides.py                    # every chapter
    .venv/bin/python scripts/slides.py book/04_cnn.ipynb  # one chapter

(``bash scripts/slides.sh`` sets up first, then runs this.) Writes
``_build/slides/<chapter>.slides.html``, with reveal.js and MathJax copied
beside the decks, so the folder can be copied to a classroom computer and
opened from disk.

Nothing is executed: each chapter's outputs come from the book build's
execution cache (``_build/.jupyter_cache``), matched on the chapter's code.
A chapter that is not in the cache (never built, or changed since) is
reported; build the book first (``bash scripts/build-book.sh``).

How a chapter becomes slides, without editing it: each section heading
(``#``, ``##``) starts a new slide, every other prose cell a vertical
sub-slide, and code cells with their figures stay on the slide of the prose
before them. Solutions are left out, ``hide-input`` cells show only their
output, stderr is dropped (as in the book), and MyST markup (directives,
``{term}``, ``{cite:p}``, ``{doc}`` roles) becomes plain Markdown. A cell
tagged ``slide``, ``subslide``, ``fragment``, ``skip`` or ``notes`` (or with
its own ``slideshow`` metadata) keeps that choice.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from build_student import toc_notebooks
from solutions import strip_solutions

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "slides"
CACHE = ROOT / "_build" / ".jupyter_cache"
TEMPLATE_DIR = Path(__file__).resolve().parent
SLIDE_TAGS = {"slide", "subslide", "fragment", "skip", "notes"}

DIRECTIVE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
ROLE = re.compile(r"\{(?P<name>[\w:-]+)\}`(?P<text>[^`]*)`")
LABEL_LINE = re.compile(r"^\([\w:.-]+\)=[ \t]*\n", re.MULTILINE)
EXPLICIT = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)


def web_assets_dir() -> Path:
    sys.path.insert(0, str(ROOT / "_ext"))
    from visionbook_html import web_assets_dir as find

    return find()


def citation_labels(bib: Path = ROOT / "book" / "references.bib") -> dict[str, tuple[str, str]]:
    """key -> (authors as cited, year), e.g. ('LeCun et al.', '1998')."""
    from pybtex.database import parse_file

    def clean(name: str) -> str:
        return re.sub(r"[{}]|\\[`'^\"~=.cvuHk]\s*", "", name)

    labels = {}
    for key, entry in parse_file(str(bib)).entries.items():
        names = [clean(" ".join(p.last_names)) for p in entry.persons.get("author", [])]
        if len(names) == 1:
            authors = names[0]
        elif len(names) == 2:
            authors = f"{names[0]} and {names[1]}"
        else:
            authors = f"{names[0]} et al." if names else key
        labels[key] = (authors, entry.fields.get("year", "n.d."))
    return labels


def chapter_titles() -> dict[str, str]:
    """'/book/04_cnn' -> the page's first heading, to print {doc} links as titles."""
    titles = {}
    for path in sorted((ROOT / "book").rglob("*.ipynb")) + sorted((ROOT / "book").rglob("*.md")):
        if path.suffix == ".ipynb":
            cells = nbformat.read(path, as_version=4).cells
            text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
        else:
            text = path.read_text(errors="replace")
        match = re.search(r"^# (.+)$", text, re.MULTILINE)
        if match:
            titles["/" + str(path.relative_to(ROOT).with_suffix(""))] = match.group(1).strip()
    return titles


def myst_to_markdown(text: str, cites: dict[str, tuple[str, str]], titles: dict[str, str]) -> str:
    """Plain Markdown for nbconvert from a MyST markdown cell."""
    text = LABEL_LINE.sub("", text)

    def directive(match: re.Match) -> str:
        name, arg = match["name"], match["arg"].strip()
        body = "\n".join(line for line in match["body"].splitlines() if not re.match(r"^:[\w-]+:", line))
        body = DIRECTIVE.sub(directive, body).strip()
        if name in {"math"}:
            return f"$$\n{body}\n$$"
        if name in {"code", "code-block", "code-cell"}:
            return f"```{arg}\n{body}\n```"
        title = arg or name.replace("-", " ").capitalize()
        quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
        return f"> **{title}**\n>\n{quoted}"

    def role(match: re.Match) -> str:
        name, text = match["name"], match["text"]
        explicit = EXPLICIT.match(text)
        shown, target = (explicit["text"], explicit["target"]) if explicit else (None, text)
        if name.startswith("cite"):
            found = [cites.get(key.strip(), (key.strip(), "")) for key in target.split(",")]
            if name == "cite:t":
                return "; ".join(f"{authors} ({year})" for authors, year in found)
            return "(" + "; ".join(f"{authors}, {year}" for authors, year in found) + ")"
        if name == "math":
            return f"${text}$"
        if shown:
            return shown
        if name == "doc":
            key = target if target.startswith("/") else "/book/" + target.lstrip("./")
            return titles.get(key, target)
        return target

    return ROLE.sub(role, DIRECTIVE.sub(directive, text))


def slide_type(cell, first: bool) -> str:
    tags = set(cell.metadata.get("tags", []))
    chosen = tags & SLIDE_TAGS
    if chosen:
        return chosen.pop()
    if cell.metadata.get("slideshow", {}).get("slide_type"):
        return cell.metadata.slideshow.slide_type
    if cell.cell_type != "markdown":
        return "-"
    if first or re.match(r"^#{1,2} ", cell.source.lstrip()):
        return "slide"
    return "subslide"


def executed_chapter(notebook: Path) -> nbformat.NotebookNode:
    """The chapter with its outputs from the book's execution cache."""
    from jupyter_cache import get_cache

    if not CACHE.is_dir():
        raise SystemExit(f"slides: no execution cache at {CACHE}: build the book first (bash scripts/build-book.sh)")
    try:
        _, merged = get_cache(str(CACHE)).merge_match_into_notebook(nbformat.read(notebook, as_version=4))
    except KeyError:
        raise SystemExit(
            f"slides: {notebook.relative_to(ROOT)} is not in the execution cache (changed since the last "
            "build?): build the book first (bash scripts/build-book.sh)"
        ) from None
    return merged


def prepare(notebook: nbformat.NotebookNode, cites, titles) -> nbformat.NotebookNode:
    """Solutions out, MyST to Markdown, stderr out, slide types in."""
    deck = strip_solutions(notebook, placeholder=False)
    for index, cell in enumerate(deck.cells):
        if cell.cell_type == "markdown":
            cell.source = myst_to_markdown(cell.source, cites, titles)
        elif cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if o.get("name") != "stderr"]
        cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type(cell, first=index == 0)
    return deck


def export(chapter: Path, cites, titles) -> Path:
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    deck = prepare(executed_chapter(chapter), cites, titles)
    exporter = SlidesExporter(
        template_name="slides_template",
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        reveal_url_prefix="reveal.js",
        reveal_theme="white",  # its fonts ship with reveal.js; "simple" loads Google Fonts
        mathjax_url="mathjax/tex-mml-chtml.js",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(
            remove_cell_tags={"remove-cell"},
            remove_input_tags={"hide-input", "remove-input"},
            remove_all_outputs_tags={"remove-output"},
            enabled=True,
        ),
        enabled=True,
    )
    body, _ = exporter.from_notebook_node(deck, resources={"metadata": {"name": chapter.stem}})
    target = OUT / f"{chapter.stem}.slides.html"
    target.write_text(body, encoding="utf-8")
    return target


def copy_web_assets() -> None:
    assets = web_assets_dir()
    for name in ("reveal.js", "mathjax"):
        if not (assets / name).is_dir():
            raise SystemExit(f"slides: {assets / name} is missing: run bash scripts/setup.sh")
        shutil.copytree(assets / name, OUT / name, dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("chapters", nargs="*", type=Path, help="chapter notebooks (default: every chapter)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    chapters = [path.resolve() for path in args.chapters] or toc_notebooks()
    for path in chapters:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path} is not a chapter notebook (give paths like book/04_cnn.ipynb)")
    OUT.mkdir(parents=True, exist_ok=True)
    copy_web_assets()
    cites, titles = citation_labels(), chapter_titles()
    for chapter in chapters:
        target = export(chapter, cites, titles)
        print(f"slides: {target.relative_to(ROOT)}")
    write_index(titles)
    print(f"slides: open {(OUT / 'index.html').relative_to(ROOT)} for the list of decks")
    return 0


def write_index(titles: dict[str, str]) -> None:
    """An index.html linking every deck in the folder, in reading order."""
    import html

    order = {path.stem: i for i, path in enumerate(toc_notebooks())}
    decks = sorted(OUT.glob("*.slides.html"), key=lambda p: (order.get(p.name.split(".")[0], 999), p.name))
    items = "\n".join(
        f'<li><a href="{deck.name}">{html.escape(titles.get("/book/" + deck.name.split(".")[0], deck.name))}</a></li>'
        for deck in decks
    )
    (OUT / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Slides: Image Recognition and Generation with Keras</title></head>\n"
        f"<body><h1>Slides</h1>\n<ol>\n{items}\n</ol>\n</body></html>\n",
        encoding="utf-8",
    )


if __name__ == "__main__":
    sys.exit(main())
