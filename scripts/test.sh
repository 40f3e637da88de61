#!/usr/bin/env bash
# Set everything up, then run every test in one pytest session, in order:
#   tests/unit   the visionbook package and the repository's house rules;
#   book/        every notebook, executed by nbval (each checks its own results);
#   tests/build  a full jupyter-book build, warnings and cell errors fatal,
#                reusing the models the notebooks just trained.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest tests/unit book tests/build \
  --nbval-lax --nbval-current-env "$@"
