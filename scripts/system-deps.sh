#!/usr/bin/env bash
# Install the system packages the browser tests need (Debian's chromium).
# As root with apt-get (CI, fresh machines) it installs them; otherwise it
# says what is missing, and the browser tests skip (fail when CI is set).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (Debian package) for the browser tests"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
else
  echo "note: chromium is not installed; browser tests will be skipped." >&2
  echo "      install it with: sudo apt-get install chromium" >&2
fi
