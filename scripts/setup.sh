#!/usr/bin/env bash
# Set up everything the book needs, idempotently:
#   1. a virtual environment in .venv with requirements.txt installed;
#   2. Fashion-MNIST on disk (Debian's dataset-fashion-mnist package where apt
#      is available, otherwise a download through keras.datasets).
# Safe to run again: finished steps are skipped quickly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
can_apt() { command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; }; }
apt_install() {
  echo "setup: apt-get install $*"
  $SUDO apt-get install -y -q "$@" >/dev/null 2>&1 || {
    $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "$@" >/dev/null; }
}

# 1. Virtual environment (Debian's python3 needs python3-venv for this).
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    can_apt || { echo "setup: '$PYTHON -m venv' failed; install python3-venv." >&2; exit 1; }
    apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing requirements into .venv (first time: several minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  echo "$want" > "$stamp"
fi

# 2. Fashion-MNIST.
have_data() { .venv/bin/python -c "from visionbook.data import load_fashion_mnist as f; f(download=False)" >/dev/null 2>&1; }
if ! have_data; then
  if can_apt; then apt_install dataset-fashion-mnist || true; fi
  if ! have_data; then
    echo "setup: downloading Fashion-MNIST through keras.datasets"
    .venv/bin/python -c "from visionbook.data import load_fashion_mnist; load_fashion_mnist()"
  fi
fi
echo "setup: ready ($(.venv/bin/python -c 'import tensorflow as tf, keras; print("TensorFlow", tf.__version__, "Keras", keras.__version__)' 2>/dev/null))"
