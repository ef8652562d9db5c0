#!/usr/bin/env bash
# Regenerate the hash-locked requirement files from the pinned inputs:
#   requirements.txt      -> requirements.lock      (runtime: what production installs)
#   requirements-dev.txt  -> requirements-dev.lock  (runtime + test and lint tools: make setup)
# Run it after changing a pin in requirements*.txt and commit the .lock files with the change;
# tests/test_requirements.py fails while a pin and its lock disagree. Uses uv (installed into
# .tmp/uv on first use); universal resolution for Python 3.11, every platform's hashes.
set -euo pipefail
cd "$(dirname "$0")/.."

UV=.tmp/uv/bin/uv
if [ ! -x "$UV" ]; then
  python3 -m venv .tmp/uv
  .tmp/uv/bin/python -m pip install -q uv==0.13.9
fi
# Resolve against the package index only, whatever pip.conf or uv.toml this machine has.
export UV_NO_CONFIG=1
for input in requirements.txt requirements-dev.txt; do
  "$UV" pip compile "$input" --generate-hashes --universal --python-version 3.11 \
    --no-header --quiet --output-file "${input%.txt}.lock"
  echo "==> ${input%.txt}.lock from $input"
done
