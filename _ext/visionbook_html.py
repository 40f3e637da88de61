"""Sphinx additions for the book's HTML (loaded through ``_config.yml``).

1. **Formulas offline.** MathJax 3 is served from the book's own ``_static``
   folder instead of a CDN, so a reader without internet still sees every
   formula. ``scripts/setup.sh`` installs the official ``mathjax`` npm package
   (the files the CDN serves) under ``<environment>/share/visionbook-web/``;
   ``$VISIONBOOK_WEB_ASSETS`` points elsewhere. Without it the build warns
   and falls back to the CDN.
2. **One switch for the repository buttons.** A non-empty ``repository.url``
   in ``_config.yml`` turns on the repository, issues, edit-page and source
   buttons and the Colab launch button; left empty, none of them appears.
3. **A student edition.** ``hide_solutions: true`` removes every solution,
   including gated ones (``solution-start`` ... ``solution-end``).
   sphinx-exercise's own option (1.2) drops plain ``solution`` directives
   but not gated ones: their content stays, and the HTML build stops with
   "unknown node type: solution_end_node". So this extension takes the
   option over: sphinx-exercise assembles every solution as usual, then the
   whole solution node is removed (before the search index is written).
4. **No duplicate scripts.** sphinx-thebe registers its configuration script
   twice, which makes browsers report "Identifier 'THEBE_JS_URL' has already
   been declared" on every page; each page keeps one copy of each script.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

ASSETS_ENV = "VISIONBOOK_WEB_ASSETS"
MATHJAX_ENTRY = "mathjax/tex-mml-chtml.js"
COLAB_URL = "https://colab.research.google.com"
REPOSITORY_BUTTONS = (
    "use_repository_button",
    "use_issues_button",
    "use_edit_page_button",
    "use_source_button",
)


def web_assets_dir() -> Path:
    """Where setup.sh puts the vendored web assets (MathJax, reveal.js)."""
    if os.environ.get(ASSETS_ENV):
        return Path(os.environ[ASSETS_ENV])
    return Path(sys.prefix) / "share" / "visionbook-web"


def _configure(app: Sphinx, config: Config) -> None:
    """Point MathJax at the local copy, apply the repository switch, take over hide_solutions."""
    mathjax = web_assets_dir() / MATHJAX_ENTRY
    app.visionbook_mathjax = mathjax.parent if mathjax.is_file() else None  # type: ignore[attr-defined]
    if app.visionbook_mathjax is not None:  # type: ignore[attr-defined]
        config.mathjax_path = MATHJAX_ENTRY  # relative to _static

    options: dict[str, Any] = config.html_theme_options
    if str(options.get("repository_url") or "").strip():
        for button in REPOSITORY_BUTTONS:
            options[button] = True
        launch = dict(options.get("launch_buttons") or {})
        launch["colab_url"] = launch.get("colab_url") or COLAB_URL
        options["launch_buttons"] = launch
    else:
        for button in REPOSITORY_BUTTONS:
            options[button] = False

    if config.hide_solutions:
        config.visionbook_hide_solutions = True
        config.hide_solutions = False  # let sphinx-exercise assemble them; we drop them whole


def _warn_missing_mathjax(app: Sphinx) -> None:
    if app.builder.format == "html" and app.visionbook_mathjax is None:  # type: ignore[attr-defined]
        logger.warning(
            "MathJax is not installed in %s, so formulas will load from the internet "
            "and readers offline will not see them; run `bash scripts/setup.sh` "
            "(or set %s to a folder holding mathjax/tex-mml-chtml.js)",
            web_assets_dir(),
            ASSETS_ENV,
            type="visionbook",
            subtype="mathjax",
        )


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    source = getattr(app, "visionbook_mathjax", None)
    if exception is None and source is not None and app.builder.format == "html":
        shutil.copytree(source, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def _one_copy_of_each_script(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        # The same inline script can be registered with filename None or "".
        filename = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


class RemoveSolutions(SphinxTransform):
    """In the student edition, drop every solution (after gated ones are assembled)."""

    default_priority = 20  # sphinx-exercise merges gated solutions at priority 10

    def apply(self, **kwargs: Any) -> None:
        if not self.config.visionbook_hide_solutions:
            return
        from sphinx_exercise.nodes import solution_node

        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("visionbook_hide_solutions", False, "env")
    app.connect("config-inited", _configure, priority=900)
    app.connect("builder-inited", _warn_missing_mathjax)
    app.connect("html-page-context", _one_copy_of_each_script, priority=900)
    app.connect("build-finished", _copy_mathjax)
    app.add_transform(RemoveSolutions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
