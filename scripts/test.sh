#!/usr/bin/env bash
# Set everything up, then run every test, in this order:
#   setup        scripts/setup.sh: the only step that uses the network
#                (package registries; Fashion-MNIST from Debian or Keras);
#   fresh clone  tests/reliability/fresh_clone.sh: the committed HEAD, cloned
#                into a new folder with an empty HOME, sets itself up and
#                passes a slice of the tests (skip: VISIONBOOK_FRESH_CLONE=0);
#   pytest       one session, with the network cut off
#                (tests/reliability/offline/run_offline.py):
#     tests/unit         the visionbook package and the repository's house rules;
#     tests/reliability  offline proof, reproducibility, safe files, bad input;
#     book/              every notebook, executed by nbval (each checks its own results);
#     tests/build        a full jupyter-book build, warnings and cell errors fatal,
#                        reusing the models the notebooks just trained;
#     tests/browser      the built book (and the student edition and slides)
#                        in headless Chromium, served from 127.0.0.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if [ "${VISIONBOOK_FRESH_CLONE:-1}" != 0 ]; then
  bash tests/reliability/fresh_clone.sh
fi
exec .venv/bin/python tests/reliability/offline/run_offline.py \
  .venv/bin/python -m pytest tests/unit tests/reliability book tests/build tests/browser \
  --nbval-lax --nbval-current-env "$@"
