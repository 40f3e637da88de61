"""Settings of the reliability tests: a bounded Hypothesis profile and a case count.

The profile caps the examples per property (``VISIONBOOK_HYPOTHESIS_EXAMPLES``,
default 200) and, in CI, draws the same examples on every run
(``derandomize``) so a red build is reproducible.  Elsewhere each run draws
new examples, and failures are remembered in ``.hypothesis/``.

Every property records the cases it tried (``fuzzkit.CASES``); the count is
printed at the end of the run and kept in pytest's cache under
``visionbook/hypothesis_cases``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzzkit  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXAMPLES = int(os.environ.get("VISIONBOOK_HYPOTHESIS_EXAMPLES", "200"))

settings.register_profile(
    "visionbook",
    max_examples=EXAMPLES,
    deadline=None,  # TensorFlow's first call per shape is slow; hangs are caught by fuzzkit
    derandomize=IN_CI,
    database=None if IN_CI else settings.default.database,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
    print_blob=True,
)
settings.load_profile("visionbook")


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if fuzzkit.KINDS:
        terminalreporter.write_sep("-", "named mistakes, by kind (test_mistake_kinds.py)")
        for kind in sorted(fuzzkit.KINDS):
            terminalreporter.write_line(
                f"{kind:>11}: {fuzzkit.KINDS_CLEAR[kind]} of {fuzzkit.KINDS[kind]} cases ended as they must"
            )
        if getattr(config, "cache", None) is not None:
            config.cache.set(
                "visionbook/mistake_kinds",
                {kind: {"tried": fuzzkit.KINDS[kind], "clear": fuzzkit.KINDS_CLEAR[kind]} for kind in fuzzkit.KINDS},
            )
    if not fuzzkit.CASES:
        return
    total = sum(fuzzkit.CASES.values())
    errors = sum(fuzzkit.REJECTED.values())
    terminalreporter.write_sep("-", "bad-input properties (Hypothesis)")
    terminalreporter.write_line(
        f"{total} cases tried over {len(fuzzkit.CASES)} properties "
        f"({errors} ended in a clear error, {total - errors} in a checked result); "
        f"profile: at most {EXAMPLES} examples per property, "
        f"{'fixed (derandomized) draws' if IN_CI else 'fresh random draws'}."
    )
    if getattr(config, "cache", None) is not None:
        config.cache.set(
            "visionbook/hypothesis_cases",
            {"total": total, "clear_errors": errors, "per_property": dict(fuzzkit.CASES),
             "clear_errors_per_property": dict(fuzzkit.REJECTED)},
        )
