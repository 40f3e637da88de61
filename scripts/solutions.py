"""Remove exercise solutions from a chapter notebook (for students and slides).

Chapters write solutions in two ways (see CONTRIBUTING.md): a gated pair, a
markdown cell with ```{solution-start} label``` ... code cells ... a markdown
cell ending with ```{solution-end}```; or a single ```{solution} label```
directive inside one markdown cell. ``strip_solutions`` removes both, keeps
everything else (exercises included), and can leave an empty cell where each
solution was, for the student to fill in.
"""

from __future__ import annotations

import copy
import re

import nbformat

START = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-start\}[^\n]*$", re.MULTILINE)
END = re.compile(r"^(?P<fence>`{3,}|:{3,})\{solution-end\}[^\n]*\n(?P=fence)[ \t]*$", re.MULTILINE)
SINGLE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{solution\}[^\n]*\n.*?^(?P=fence)[ \t]*$\n?", re.MULTILINE | re.DOTALL
)
PLACEHOLDER = "**Your solution.** Write and run it in the cell below."


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def strip_solutions(notebook: nbformat.NotebookNode, placeholder: bool = True) -> nbformat.NotebookNode:
    """A copy of ``notebook`` without any solution.

    With ``placeholder``, each removed solution becomes a short markdown cell
    and an empty code cell. Raises ValueError if a ``solution-start`` has no
    matching ``solution-end``, naming the cell.
    """
    if not isinstance(notebook, nbformat.NotebookNode):
        raise TypeError(f"notebook must be an nbformat.NotebookNode, not {type(notebook).__name__}")
    result = copy.deepcopy(notebook)
    cells, inside, opened_at = [], False, None

    def add_placeholder():
        if placeholder:
            for new in (nbformat.v4.new_markdown_cell(PLACEHOLDER), nbformat.v4.new_code_cell("")):
                if result.get("nbformat_minor", 5) < 5:
                    new.pop("id", None)  # cell ids exist from nbformat 4.5 on
                cells.append(new)

    for index, cell in enumerate(result.cells):
        text = _source(cell)
        if cell.cell_type == "markdown" and inside:
            end = END.search(text)
            if end:  # keep what follows the end marker
                inside = False
                add_placeholder()
                text = text[end.end():].strip("\n")
                if text.strip():
                    cell.source = text
                    cells.append(cell)
            continue
        if inside:
            continue
        if cell.cell_type == "markdown":
            start = START.search(text)
            if start:
                before, after = text[: start.start()], text[start.end():]
                end = END.search(after)
                if end:  # a whole gated solution inside one cell
                    text = before + after[end.end():]
                    add_placeholder()
                else:
                    inside, opened_at = True, index
                    text = before
                if not text.strip():
                    continue
            new_text, count = SINGLE.subn("", text)
            if count:
                cell.source = new_text.strip("\n")
                if cell.source.strip():
                    cells.append(cell)
                add_placeholder()
                continue
            cell.source = text
        cells.append(cell)
    if inside:
        raise ValueError(f"cell {opened_at} opens a solution (solution-start) that no solution-end closes")
    result.cells = cells
    return result
