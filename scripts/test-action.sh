#!/usr/bin/env bash
# Runs action.yml's steps locally with GitHub's environment variables set
# (scripts/test_action.py), in a virtual environment with PyYAML from PyPI.
# Needs python3 (venv, pip), bash, cargo and crates.io.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$(mktemp -d "${TMPDIR:-/tmp}/chlint-action-venv.XXXXXX")"
trap 'rm -rf "$venv"' EXIT

python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "PyYAML==6.0.3"
# One cargo target folder for the integration tests: builds after the first
# are incremental.
export CHLINT_INTEGRATION_TARGET="${CHLINT_INTEGRATION_TARGET:-$here/target/integration}"
"$venv/bin/python" "$here/scripts/test_action.py"
