#!/usr/bin/env bash
# Sets up this machine and runs the embedded default in the foreground:
# system packages, virtualenv, libvirtd, the test guest image, then
# volmig-all-in-one (state under $VOLMIG_STATE_DIR, default /var/lib/volmig).
set -euo pipefail
cd "$(dirname "$0")/.."

state=${VOLMIG_STATE_DIR:-/var/lib/volmig}
tools/install.sh
tools/start-libvirtd.sh
tools/build-guest-image.sh "$state/images/volmig-guest"
exec .venv/bin/volmig-all-in-one --state-dir "$state" "$@"
