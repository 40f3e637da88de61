"""Python imports this module at start-up when its folder is on PYTHONPATH.

``run_offline.py`` puts the folder there only in its fallback mode
(``VISIONBOOK_OFFLINE=guard``), so every Python process of the test run,
notebook kernels included, starts with the network guard switched on.  Any
other ``sitecustomize`` module this one shadows is still run afterwards.
"""

import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))

if os.environ.get("VISIONBOOK_OFFLINE") == "guard":
    sys.path.insert(0, _here)
    try:
        import netguard

        netguard.install()
    finally:
        sys.path.remove(_here)


def _run_shadowed() -> None:
    import importlib.machinery
    import importlib.util

    others = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_run_shadowed()
