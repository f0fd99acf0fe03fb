#!/usr/bin/env bash
# Installs a real Keystone (the keystone package) into its own virtualenv,
# .venv-keystone, for the functional tests: its requirements need not
# agree with the project's. Does nothing when it is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VOLMIG_KEYSTONE_VENV:-.venv-keystone}
python=${PYTHON:-python3}

if [ -x "$venv/bin/keystone-manage" ]; then
    exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install -q -U pip
"$venv/bin/pip" install -q keystone
