#!/usr/bin/env bash
# Create .venv with Python 3.10 and install Baton with its pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/find-python.sh)
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  echo "creating .venv with $python"
  rm -rf .venv
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2"
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  --constraint constraints.txt --editable ".[dev]"
.venv/bin/python -m pip check
