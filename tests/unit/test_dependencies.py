"""Package hygiene: pyproject.toml declares every third-party package that visionbook imports."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_top_level_names() -> set[str]:
    """The top-level module of every import under src/visionbook, function-level imports included."""
    names = set()
    for path in (ROOT / "src" / "visionbook").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_declared():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = {normalized(re.split(r"[<>=!~ ;\[]", d, 1)[0]) for d in pyproject["project"]["dependencies"]}
    third_party = imported_top_level_names() - set(sys.stdlib_module_names) - {"visionbook", "__future__"}
    distributions = packages_distributions()
    missing = {
        name: distributions.get(name, [name])
        for name in sorted(third_party)
        if not declared & {normalized(d) for d in distributions.get(name, [name])}
    }
    assert not missing, f"imported by src/visionbook but not in pyproject.toml's dependencies: {missing}"
