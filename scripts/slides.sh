#!/usr/bin/env bash
# Set everything up, then export chapters as reveal.js slide decks into
# _build/slides (all chapters, or the notebooks given as arguments). The decks
# use the outputs of the last book build (bash scripts/build-book.sh) and work
# offline: reveal.js and MathJax are copied beside them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python scripts/slides.py "$@"
