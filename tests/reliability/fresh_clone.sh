#!/usr/bin/env bash
# Fresh machine: the README's set-up works from a fresh clone, in a new folder,
# with an empty home: no virtual environment, no Keras cache, no trained models.
#
#   bash tests/reliability/fresh_clone.sh      (scripts/test.sh runs it first)
#
# 1. git clone the committed HEAD into a new temporary folder;
# 2. run that clone's scripts/setup.sh with HOME pointing to an empty folder:
#    it must build its own .venv and find Fashion-MNIST where a new machine
#    has it (Debian's package, a system path; never a Keras cache in HOME);
#    pip may reuse its download cache, and pip and npm keep the machine's
#    configuration files (index, mirror), which are the machine's, not the project's;
# 3. with the network cut off, run in the clone: the unit tests, one notebook
#    that trains and stores its models (the clone has none), and the sampling
#    command, which must explain that no generator was trained yet;
# 4. check that the data and the models did not land in HOME.
# The whole book is not run a second time: the main run does that, and this
# stage must stay a few minutes of CI.  Set VISIONBOOK_FRESH_CLONE=0 to skip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NOTEBOOK=book/03_pooling.ipynb   # trains two small models through the model store
cd "$ROOT"

say() { echo "fresh-clone: $*"; }
if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
  say "not a git checkout with a commit; skipped"; exit 0
fi
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  say "note: this checks the committed HEAD; uncommitted changes are not part of it"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/visionbook-fresh.XXXXXX")
trap 'rm -rf "$work"' EXIT
repo="$work/visionbook" home="$work/home"
mkdir -p "$home"
git clone -q --no-hardlinks "$ROOT" "$repo"
say "cloned $(git -C "$repo" rev-parse --short HEAD) into $repo"
for made in .venv models/*.keras _build; do
  if compgen -G "$repo/$made" >/dev/null; then say "FAILED: the commit contains $made"; exit 1; fi
done

for conf in .config/pip/pip.conf .pip/pip.conf .npmrc; do
  if [ -f "$HOME/$conf" ]; then mkdir -p "$home/$(dirname "$conf")"; cp "$HOME/$conf" "$home/$conf"; fi
done
pip_cache=$("$ROOT/.venv/bin/python" -m pip cache dir 2>/dev/null || true)
base_python=$("$ROOT/.venv/bin/python" -c 'import sys; print(sys._base_executable)')

fresh_env=(env -u VIRTUAL_ENV -u PYTHONPATH -u PYTHONHOME -u KERAS_HOME -u MPLCONFIGDIR
  -u XDG_CACHE_HOME -u XDG_CONFIG_HOME -u XDG_DATA_HOME -u JUPYTER_CONFIG_DIR -u JUPYTER_DATA_DIR
  -u VISIONBOOK_MODELS -u VISIONBOOK_FASHION_MNIST_DIR -u VISIONBOOK_OFFLINE
  HOME="$home" PYTHON="$base_python" ${pip_cache:+PIP_CACHE_DIR="$pip_cache"})

fail() { say "FAILED: $1"; tail -n 60 "$2" | sed 's/^/  | /'; exit 1; }

say "running the clone's scripts/setup.sh with an empty HOME"
(cd "$repo" && "${fresh_env[@]}" bash scripts/setup.sh) > "$work/setup.log" 2>&1 \
  || fail "scripts/setup.sh in a fresh clone" "$work/setup.log"
grep '^setup:' "$work/setup.log" | sed 's/^/  /'
[ -x "$repo/.venv/bin/python" ] || fail "setup.sh made no .venv" "$work/setup.log"

say "offline, in the clone: tests/unit, $NOTEBOOK, the sampling command"
(cd "$repo" && "${fresh_env[@]}" "$ROOT/.venv/bin/python" "$ROOT/tests/reliability/offline/run_offline.py" \
  .venv/bin/python -m pytest -q -p no:cacheprovider tests/unit "$NOTEBOOK" --nbval-lax --nbval-current-env) \
  > "$work/tests.log" 2>&1 || fail "tests in a fresh clone" "$work/tests.log"
tail -n 1 "$work/tests.log" | sed 's/^/  /'

set +e
(cd "$repo" && "${fresh_env[@]}" "$ROOT/.venv/bin/python" "$ROOT/tests/reliability/offline/run_offline.py" \
  .venv/bin/python -m visionbook.sample --out "$work/samples.png") > "$work/sample.log" 2>&1
code=$?
set -e
if [ "$code" -ne 2 ] || ! grep -q "has not been trained yet" "$work/sample.log"; then
  fail "the sampling command with no trained GAN must exit 2 and say so (exit $code)" "$work/sample.log"
fi

ls "$repo"/models/pooling_shift_*.keras >/dev/null 2>&1 || fail "$NOTEBOOK stored no model in the clone's models/" "$work/tests.log"
if [ -e "$home/.keras/datasets" ] || find "$home" \( -type f -name '*.keras' \) -o -name visionbook-models | grep -q .; then
  find "$home" -maxdepth 3 | sed 's/^/  /'
  say "FAILED: data or models were written into HOME"; exit 1
fi
say "ok: a fresh clone sets itself up and passes offline with no models and an empty HOME"
