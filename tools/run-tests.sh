#!/usr/bin/env bash
# Runs the whole test suite on this machine, installing what it lacks first:
# unit tests, then functional tests against real libvirtd/QEMU, real
# processes and real databases. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install.sh test
tools/start-libvirtd.sh
tools/setup-test-dbs.sh
# Tests run in parallel, each sent to whichever worker is free: every
# functional test boots its own guest, and a worker starts the deployment
# of a file the first time it runs one of its tests. How many workers, and
# why: README, "Running the tests". The slowest tests and the peak number
# of guests alive at once are printed at the end.
exec .venv/bin/python -m pytest -p no:cacheprovider \
    -n "${VOLMIG_TEST_WORKERS:-3}" --dist load --durations=15 \
    "${@:-tests}"
