#!/bin/bash
# Build the test guest: OUTDIR/vmlinuz (the host's Debian cloud kernel) and
# OUTDIR/initrd.img (busybox + virtio modules + an /init that writes numbered,
# acknowledged records to a hot-plugged /dev/vda).  Booted directly by QEMU
# (<kernel>/<initrd>, cmdline "console=ttyS0 quiet"); see host-facts.md.
# Tests read the serial console and check the records with
# tests/functional/guest_records.py.
#
# Usage: tools/build-guest-image.sh OUTDIR
set -euo pipefail

die() {
    echo "build-guest-image: ERROR: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
outdir=$1
script=$(readlink -f "$0")

# Newest Debian cloud kernel installed on the host (linux-image-cloud-amd64).
kernel=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' | sort -V | tail -n 1)
[ -n "$kernel" ] || die "no /boot/vmlinuz-*-cloud-amd64; apt-get install linux-image-cloud-amd64"
kver=${kernel#/boot/vmlinuz-}
moddir=/lib/modules/$kver
[ -d "$moddir" ] || die "$moddir missing for kernel $kernel"

busybox=$(command -v busybox || true)
[ -n "$busybox" ] || die "busybox not found; apt-get install busybox-static"
busybox=$(readlink -f "$busybox")
# ldd exits non-zero for a static binary; a dynamic one would not run in
# an initramfs without its libraries.
if ldd "$busybox" >/dev/null 2>&1; then
    die "$busybox is dynamically linked; apt-get install busybox-static"
fi

mkdir -p "$outdir"
# Skip the rebuild if both outputs are newer than this script, the kernel
# and busybox (the inputs that can change).
if [ -s "$outdir/vmlinuz" ] && [ -s "$outdir/initrd.img" ]; then
    fresh=1
    for out in "$outdir/vmlinuz" "$outdir/initrd.img"; do
        for input in "$script" "$kernel" "$busybox"; do
            [ "$out" -nt "$input" ] || fresh=0
        done
    done
    if [ "$fresh" -eq 1 ]; then
        echo "build-guest-image: $outdir is up to date"
        exit 0
    fi
fi

# Work inside OUTDIR so the final renames are atomic.
work=$(mktemp -d "$outdir/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}

cp "$busybox" "$root/bin/busybox"
# One symlink per applet so /init can call plain command names.
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done

# virtio_blk is a module in the cloud kernel; the list is in load order.
# Modules built into the kernel are skipped (insmod would fail on them).
# evdev and button: the ACPI power button, so that the guest can be told
# to power itself off ("virsh shutdown").
modules="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk evdev button"
load_order=""
for mod in $modules; do
    if grep -Eq "/${mod}\.ko(\.[a-z]+)?$" "$moddir/modules.builtin"; then
        continue
    fi
    src=$(find "$moddir/kernel" \( -name "${mod}.ko" -o -name "${mod}.ko.xz" \
        -o -name "${mod}.ko.zst" -o -name "${mod}.ko.gz" \) -print -quit)
    [ -n "$src" ] || die "module $mod not found under $moddir"
    # busybox insmod cannot read compressed modules: store them plain.
    dst=$root/lib/modules/${mod}.ko
    case $src in
        *.ko.xz) xz -dc "$src" >"$dst" ;;
        *.ko.zst) zstd -qdc "$src" >"$dst" ;;
        *.ko.gz) gzip -dc "$src" >"$dst" ;;
        *) cp "$src" "$dst" ;;
    esac
    # Fail at build time, not in the guest, if a dependency was forgotten.
    deps=$(grep -E "/${mod}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | cut -d: -f2 || true)
    for dep in $deps; do
        dep=$(basename "$dep")
        dep=${dep%%.ko*}
        case " $load_order " in
            *" $dep "*) ;;
            *) die "module $mod needs $dep, which is not loaded before it" ;;
        esac
    done
    load_order="$load_order $mod"
done

# The guest's program.  Console protocol (parsed by guest_records.py):
#   "VOLMIG-GUEST READY"  once, after the modules are loaded;
#   "ACK n"               only after record n is durable on /dev/vda;
#   "FAIL n"              dd failed (disk gone): n is never ACKed.
# Record n goes to 4 KiB block (n mod 1024) and starts with "SEQ n\n",
# zero-padded to 4096 bytes.  n keeps growing across disk re-appearances.
cat >"$root/init" <<EOF
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# Our cpio has no /dev/console; use the one devtmpfs provides (ttyS0).
exec </dev/console >/dev/console 2>&1
# Only emergencies reach the console: kernel messages (e.g. I/O errors on
# detach) must not break the ACK lines apart.
echo 1 > /proc/sys/kernel/printk
for m in$load_order; do
    insmod /lib/modules/\$m.ko || echo "VOLMIG-GUEST insmod \$m failed"
done
# The ACPI power button ("virsh shutdown", Nova's graceful stop) makes the
# guest power itself off at once, as a real guest would: a blocking read
# of the button's first input event.
for event in /sys/class/input/event*; do
    if [ "\$(cat "\$event/device/name" 2>/dev/null)" = "Power Button" ]; then
        (head -c 1 "/dev/input/\${event##*/}" >/dev/null && poweroff -f) &
    fi
done
# Block (never poll: an idle TCG guest must cost the host nothing) until a
# disk comes or goes: busybox "uevent" runs /bin/disk-event for each kernel
# uevent, which writes a line to this FIFO.  It is open before the first
# check, so an event between the check and the read is not lost.
mkfifo /tmp/disk-events
exec 3<>/tmp/disk-events
uevent /bin/disk-event &
echo "VOLMIG-GUEST READY"
n=0
while :; do
    # Wait for the test to hot-plug the disk.
    while [ ! -b /dev/vda ]; do
        read -r _ <&3
    done
    # Never let dd open /dev/vda itself: it opens with O_CREAT, so once the
    # disk is gone it creates a regular file /dev/vda, which stops devtmpfs
    # from adding the node when the disk comes back (and where tmpfs allows
    # O_DIRECT, would "succeed" into RAM).  Write through a private node of
    # the same device instead: it fails with ENXIO once the disk is gone.
    rm -f /tmp/vda
    if ! read -r dev 2>/dev/null < /sys/block/vda/dev \\
            || ! mknod /tmp/vda b "\${dev%%:*}" "\${dev#*:}"; then
        sleep 0.2
        continue
    fi
    while :; do
        n=\$((n + 1))
        printf 'SEQ %d\n' "\$n" > /tmp/rec
        # conv=sync pads the short input to one 4096-byte block; fsync and
        # O_DIRECT make dd's success mean "on the disk".
        if dd if=/tmp/rec of=/tmp/vda bs=4096 seek=\$((n % 1024)) count=1 \\
                conv=sync,notrunc,fsync oflag=direct 2>/dev/null; then
            echo "ACK \$n"
        else
            echo "FAIL \$n"
            # Don't spin if the node lingers while the disk goes away.
            sleep 0.2
            break
        fi
    done
done
EOF
chmod 0755 "$root/init"
cat >"$root/bin/disk-event" <<'EOF'
#!/bin/sh
# Run by busybox "uevent" for each kernel uevent: wakes /init's disk wait.
[ "$SUBSYSTEM" = block ] && echo "$ACTION $DEVNAME" >/tmp/disk-events
exit 0
EOF
chmod 0755 "$root/bin/disk-event"

cp "$kernel" "$work/vmlinuz"
(cd "$root" && find . -print0 | sort -z | cpio --quiet --null -o -H newc -R 0:0) \
    | gzip -9 >"$work/initrd.img"
# Move into place last, so an interrupted build never looks up to date.
mv -f "$work/vmlinuz" "$outdir/vmlinuz"
mv -f "$work/initrd.img" "$outdir/initrd.img"
echo "build-guest-image: built $outdir/vmlinuz and $outdir/initrd.img (kernel $kver)"
