#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks to run volmig: the system
# packages bindep.txt lists for the given profiles, and a virtualenv (.venv)
# holding the project. Safe to run again: it only installs what is missing.
#
#   tools/install.sh            # the embedded default
#   tools/install.sh test       # plus what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."

profiles=("$@")
venv=${VOLMIG_VENV:-.venv}
python=${PYTHON:-python3}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# venv needs Debian's python3-venv when python3 is the system interpreter.
if ! "$python" -m venv --help >/dev/null 2>&1; then
    apt-get update -q
    apt_install python3-venv
fi
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q -U pip
fi

# bindep reads bindep.txt and names the packages this machine lacks.
"$venv/bin/pip" install -q bindep
missing=$("$venv/bin/bindep" -b "${profiles[@]}" || true)
if [ -n "$missing" ]; then
    echo "Installing system packages: $missing"
    apt-get update -q
    # shellcheck disable=SC2086 # one word per package
    apt_install $missing
fi

# libvirt-python compiles against libvirt-dev, installed just above.
if [[ " ${profiles[*]} " == *" test "* ]]; then
    "$venv/bin/pip" install -q -e . -r test-requirements.txt
else
    "$venv/bin/pip" install -q -e .
fi

# The functional tests run a real Keystone from its own virtualenv.
if [[ " ${profiles[*]} " == *" test "* ]]; then
    tools/keystone.sh
fi
