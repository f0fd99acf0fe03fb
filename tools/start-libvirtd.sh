#!/bin/bash
# Start virtlogd + libvirtd on a host without systemd (dev boxes, CI).
# Idempotent: safe to run any number of times, also concurrently.
# Background and the reasons for every step: design notes, host-facts.md
# ("Starting libvirtd without systemd").
set -euo pipefail

URI="qemu:///system"
QEMU_CONF=/etc/libvirt/qemu.conf
LOG_DIR=/var/log/libvirt
WAIT_SECONDS=${VOLMIG_LIBVIRTD_WAIT:-30}

die() {
    echo "start-libvirtd: ERROR: $*" >&2
    exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
for cmd in libvirtd virtlogd virsh; do
    command -v "$cmd" >/dev/null 2>&1 || die "'$cmd' not found; install libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
done

# Serialise concurrent callers so two of them never both start a daemon.
exec 9>/run/volmig-start-libvirtd.lock
flock -w 60 9 || die "timed out waiting for /run/volmig-start-libvirtd.lock"

# libvirtd's QEMU driver refuses to load without this user/group, even
# though qemu.conf makes it run QEMU as root.
if ! getent group libvirt-qemu >/dev/null; then
    groupadd --system libvirt-qemu
fi
if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --gid libvirt-qemu --home-dir /var/lib/libvirt \
        --no-create-home --shell /usr/sbin/nologin libvirt-qemu
fi

# Run QEMU as root with no DAC/SELinux/cgroup handling: no systemd, no
# cgroup delegation here, and files are owned by root anyway.
conf_changed=0
desired_conf='# Written by volmig tools/start-libvirtd.sh; edits will be overwritten.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
'
mkdir -p "$(dirname "$QEMU_CONF")"
if [ ! -f "$QEMU_CONF" ] || [ "$(cat "$QEMU_CONF")" != "$(printf '%s' "$desired_conf")" ]; then
    tmp=$(mktemp "$QEMU_CONF.XXXXXX")
    printf '%s' "$desired_conf" >"$tmp"
    chmod 0600 "$tmp"
    mv -f "$tmp" "$QEMU_CONF"
    conf_changed=1
fi

mkdir -p "$LOG_DIR" /var/run/libvirt /var/lib/libvirt

# True when the pid file names a live process with the expected name
# (guards against stale pid files whose pid got reused).
running() {
    local name=$1 pidfile=$2 pid
    [ -r "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ]
}

# libvirtd only reads qemu.conf at start-up: restart it if we changed it.
if [ "$conf_changed" -eq 1 ] && running libvirtd /run/libvirtd.pid; then
    echo "start-libvirtd: $QEMU_CONF changed, restarting libvirtd" >&2
    pid=$(cat /run/libvirtd.pid)
    kill "$pid"
    for _ in $(seq 1 100); do
        [ -d "/proc/$pid" ] || break
        sleep 0.1
    done
    [ ! -d "/proc/$pid" ] || die "libvirtd (pid $pid) did not exit after SIGTERM"
fi

# Daemons log to files (there is no journal); the env var is read by both.
# "9>&-": the daemons must not inherit the lock fd, or they hold it forever.
# virtlogd must be up before any domain starts (it owns QEMU's log files).
if ! running virtlogd /run/virtlogd.pid; then
    LIBVIRT_LOG_OUTPUTS="3:file:$LOG_DIR/virtlogd.log" virtlogd -d 9>&- \
        || die "virtlogd -d failed; see $LOG_DIR/virtlogd.log"
fi
if ! running libvirtd /run/libvirtd.pid; then
    LIBVIRT_LOG_OUTPUTS="3:file:$LOG_DIR/libvirtd.log" libvirtd -d 9>&- \
        || die "libvirtd -d failed; see $LOG_DIR/libvirtd.log"
fi

# The daemon forks before its drivers are ready: wait until it answers.
deadline=$((SECONDS + WAIT_SECONDS))
until virsh -c "$URI" version >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "start-libvirtd: last virsh error:" >&2
        virsh -c "$URI" version >&2 || true
        die "libvirtd did not answer on $URI within ${WAIT_SECONDS}s; see $LOG_DIR/libvirtd.log"
    fi
    sleep 0.5
done
echo "start-libvirtd: libvirtd is answering on $URI"
