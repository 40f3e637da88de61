#!/usr/bin/env bash
# Set everything up, then render the book to HTML (notebooks are executed;
# results are cached, so an unchanged book rebuilds quickly).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/jupyter-book build . "$@"
echo "The book is at: $(pwd)/_build/html/index.html"
