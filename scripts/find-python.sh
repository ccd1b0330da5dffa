#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only),
# or say what to install and fail.
set -u
is_310() { [ -n "$1" ] && [ -x "$1" ] && "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

candidates=("${BATON_PYTHON:-}")
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root 2>/dev/null)
  for dir in "$root"/versions/3.10*; do candidates+=("$dir/bin/python3.10"); done
fi
for dir in "$HOME"/.pyenv/versions/3.10*; do candidates+=("$dir/bin/python3.10"); done
candidates+=("$(command -v python3.10 2>/dev/null)" /usr/bin/python3.10 /usr/local/bin/python3.10 "$(command -v python3 2>/dev/null)")

for candidate in "${candidates[@]}"; do
  if is_310 "$candidate"; then echo "$candidate"; exit 0; fi
done

cat >&2 <<'MSG'
Baton needs Python 3.10 (Rasa 3.6 supports Python 3.8-3.10 only) and none was found.
Install one of these, then run the command again:
  - with pyenv:      pyenv install 3.10
  - Debian/Ubuntu:   sudo apt-get install python3.10 python3.10-venv  (deadsnakes PPA on Ubuntu)
  - macOS/Homebrew:  brew install python@3.10
Or point BATON_PYTHON at a Python 3.10 interpreter.
MSG
exit 1
