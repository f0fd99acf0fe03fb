#!/usr/bin/env bash
# Runs the whole test suite on this machine, installing what it lacks first:
# unit tests, then functional tests against real libvirtd/QEMU, real
# processes and real databases. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install.sh test
tools/start-libvirtd.sh
tools/setup-test-dbs.sh
# Test files run in parallel, each whole in one worker (the functional
# ones share a deployment per file), but for files whose tests are
# independent (tests/conftest.py). How many workers, and why: README,
# "Running the tests". The slowest tests and the peak number of guests
# alive at once are printed at the end.
exec .venv/bin/python -m pytest -p no:cacheprovider \
    -n "${VOLMIG_TEST_WORKERS:-3}" --dist loadgroup --durations=15 \
    "${@:-tests}"
