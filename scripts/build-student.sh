#!/usr/bin/env bash
# Set everything up, then build the student edition (every exercise, no
# solutions) into _build/student/html, and the chapter notebooks without
# solutions into _build/student/notebooks. Outputs come from the main build's
# execution cache, so nothing is retrained. Extra arguments (-W, --keep-going)
# go to the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/build_student.py "$@"
