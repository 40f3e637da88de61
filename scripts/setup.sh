#!/usr/bin/env bash
# Set up everything the book needs, idempotently:
#   1. a virtual environment in .venv with requirements.txt installed;
#   2. Fashion-MNIST on disk (Debian's dataset-fashion-mnist package where apt
#      is available, otherwise a download through keras.datasets);
#   3. MathJax 3 and reveal.js (the official npm packages) in
#      .venv/share/visionbook-web, so formulas and slides work offline;
#   4. for the browser tests: Debian's chromium, chromium-driver and
#      fonts-noto-cjk (Chinese glossary terms), where apt is available.
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
# 3. Web assets for reading offline. The book's pages load MathJax from
#    _static (see _ext/visionbook_html.py) and the slides load reveal.js from
#    beside them; both come from the npm registry, checked by npm's integrity
#    hashes, and are unpacked once. reveal.js 4.0.2 is the release nbconvert's
#    slide template is written for.
web=.venv/share/visionbook-web
web_versions="mathjax@3.2.2 reveal.js@4.0.2"
fetch_web_assets() {
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2086
  (cd "$tmp" && npm pack --silent $web_versions >/dev/null) || { rm -rf "$tmp"; return 1; }
  mkdir "$tmp/mj" "$tmp/rv"
  tar xzf "$tmp"/mathjax-*.tgz -C "$tmp/mj" && tar xzf "$tmp"/reveal.js-*.tgz -C "$tmp/rv" || { rm -rf "$tmp"; return 1; }
  rm -rf "$web" && mkdir -p "$web/mathjax" "$web/reveal.js"
  # tex-mml-chtml.js and the parts it loads on demand (fonts, extensions, menu, speech).
  for part in tex-mml-chtml.js input output ui a11y sre adaptors; do
    cp -r "$tmp/mj/package/es5/$part" "$web/mathjax/"
  done
  cp "$tmp/mj/package/LICENSE" "$web/mathjax/"
  cp -r "$tmp/rv/package/dist" "$tmp/rv/package/plugin" "$tmp/rv/package/LICENSE" "$web/reveal.js/"
  rm -rf "$tmp"
  echo "$web_versions" > "$web/.versions"
}
if [ "$(cat "$web/.versions" 2>/dev/null)" != "$web_versions" ]; then
  if ! command -v npm >/dev/null 2>&1 && can_apt; then apt_install npm || true; fi
  if command -v npm >/dev/null 2>&1; then
    echo "setup: fetching $web_versions (npm pack)"
    fetch_web_assets || echo "setup: could not fetch $web_versions: formulas and slides will need internet" >&2
  else
    echo "setup: npm not found: formulas and slides will need internet (install Node.js's npm and run again)" >&2
  fi
fi

# 4. Headless Chromium for tests/browser (Debian packages; never a browser download).
if ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 \
       && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; }; then
  if can_apt; then
    apt_install chromium chromium-driver fonts-noto-cjk || echo "setup: could not install chromium; tests/browser need it" >&2
  else
    echo "setup: chromium and chromium-driver are missing and apt-get is unavailable; tests/browser need them" >&2
  fi
fi

echo "setup: ready ($(.venv/bin/python -c 'import tensorflow as tf, keras; print("TensorFlow", tf.__version__, "Keras", keras.__version__)' 2>/dev/null))"
