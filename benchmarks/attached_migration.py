"""End-to-end migration of a volume a writing guest uses, two ways.

1. ``cinder migrate`` (ours: Nova's overlay + Cinder's copy engine)
   against a legacy-style full mirror of the same disk (``virDomainBlockCopy``
   of the whole volume into the destination, wait, pivot), on the root
   filesystem, on the same 2 GiB fully allocated volume in the same run:
   wall time, bytes the guest's QEMU process read and wrote
   (``/proc/PID/io``), and the guest's acknowledged-write rate during the
   migration relative to just before.
2. Two backends on one XFS filesystem (a loop-mounted image made here):
   the copy is a reflink; the end-to-end time of ``cinder migrate``.

Prints tables; run as root on a machine prepared by tools/install.sh:

    .venv/bin/python -m benchmarks.attached_migration [--size-gib 2]
"""

import argparse
import contextlib
import os
import subprocess
import tempfile
import time

from tests.functional import deployment as deployment_mod
from tests.functional import guest_records


def _qemu_io(server_id):
    with open('/run/libvirt/qemu/volmig-%s.pid' % server_id) as f:
        pid = f.read().strip()
    with open('/proc/%s/io' % pid) as f:
        fields = dict(line.split(': ') for line in f.read().splitlines())
    return int(fields['read_bytes']), int(fields['write_bytes'])


def _acks(d, server_id):
    with open(d.console_file(server_id), errors='replace') as f:
        return guest_records.count_acks(guest_records.last_boot(f.read()))


def _fill(path, size_gib):
    subprocess.run(['dd', 'if=/dev/urandom', 'of=%s' % path, 'bs=8M',
                    'count=%d' % (size_gib * 128), 'conv=notrunc,fsync',
                    'status=none'], check=True)
    # A volume's data is not in its volume host's page cache.
    with open('/proc/sys/vm/drop_caches', 'w') as drop_caches:
        drop_caches.write('3')


@contextlib.contextmanager
def _measured(d, server):
    """Yields a dict filled, on exit, with time, QEMU I/O and ack rate."""
    quiet_start, acks0 = time.monotonic(), _acks(d, server)
    time.sleep(3)
    quiet_rate = (_acks(d, server) - acks0) / (time.monotonic() - quiet_start)
    io0, acks1, t0 = _qemu_io(server), _acks(d, server), time.monotonic()
    result = {}
    yield result
    seconds = time.monotonic() - t0
    io1 = _qemu_io(server)
    result.update(
        seconds=seconds, read=io1[0] - io0[0], written=io1[1] - io0[1],
        rate=(_acks(d, server) - acks1) / seconds / quiet_rate)


def _attached_volume(d, server, backend, size_gib):
    volume = d.create_volume(size=size_gib, volume_type=backend)
    _fill(d.volume_path(volume), size_gib)
    attachment, path = d.attach(server, volume['id'])
    d.wait_acks(server, 100)
    return volume, path


def _migrate(d, volume_id, backend):
    """What ``cinder migrate`` sends, without the client's start-up time;
    returns once the migration succeeded."""
    response = d.volume.post('/volumes/%s/action' % volume_id, {
        'os-migrate_volume': {'host': d.volume_host(backend)}})
    assert response.status_code == 202, response.text
    _wait_success(d, volume_id)


def _wait_success(d, volume_id):
    def done():
        volume = d.volume.get('/volumes/%s' % volume_id).json()['volume']
        assert volume['migration_status'] != 'error', d.log_tail()
        return volume['migration_status'] == 'success'
    deployment_mod.wait_for(done, 600, 'the migration', interval=0.05)


def ours_vs_mirror(d, server, size_gib):
    volume, path = _attached_volume(d, server, 'backend1', size_gib)
    with _measured(d, server) as ours:
        _migrate(d, volume['id'], 'backend2')

    # The legacy way on the same disk: a full mirror into a new volume.
    mirror_target = d.create_volume(size=size_gib, volume_type='backend1')
    target_path = d.volume_path(mirror_target)
    with _measured(d, server) as mirror:
        subprocess.run(['virsh', 'blockcopy', 'volmig-' + server, 'vda',
                        '--dest', target_path, '--format', 'raw',
                        '--reuse-external', '--transient-job', '--wait',
                        '--pivot'], check=True, capture_output=True)
    return ours, mirror


def reflink_backends(guest_image, tmp, size_gib):
    image, mount = os.path.join(tmp, 'xfs.img'), os.path.join(tmp, 'xfs')
    os.makedirs(mount)
    subprocess.run(['truncate', '-s', '%dG' % (3 * size_gib + 2), image],
                   check=True)
    subprocess.run(['mkfs.xfs', '-q', '-m', 'reflink=1', image], check=True)
    subprocess.run(['mount', '-o', 'loop', image, mount], check=True)
    try:
        with deployment_mod.Deployment(
                os.path.join(tmp, 'xfs-state'), guest_image, cinder_conf={
                    name: {'volumes_dir': os.path.join(mount, name)}
                    for name in ('backend1', 'backend2')}) as d:
            server = d.boot_server('bench-reflink')['id']
            volume, _ = _attached_volume(d, server, 'backend1', size_gib)
            t0 = time.monotonic()
            _migrate(d, volume['id'], 'backend2')
            return time.monotonic() - t0
    finally:
        subprocess.run(['umount', mount], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-gib', type=int, default=2)
    args = parser.parse_args()
    deployment_mod.run_tool('start-libvirtd.sh')
    with tempfile.TemporaryDirectory(dir='/var/tmp') as tmp:
        guest_image = os.path.join(tmp, 'image')
        deployment_mod.run_tool('build-guest-image.sh', guest_image)
        with deployment_mod.Deployment(os.path.join(tmp, 'state'),
                                       guest_image) as d:
            server = d.boot_server('bench')['id']
            ours, mirror = ours_vs_mirror(d, server, args.size_gib)
        _print_comparison(args.size_gib, ours, mirror)
        reflink_seconds = reflink_backends(guest_image, tmp, args.size_gib)
    print()
    print('Two backends on one XFS (reflink): cinder migrate of the '
          'attached %d GiB volume, end to end: %.2f s (target < 2 s)'
          % (args.size_gib, reflink_seconds))


def _print_comparison(size_gib, ours, mirror):
    mib = 1 << 20
    print('Attached %d GiB volume, writing guest, on the root filesystem'
          % size_gib)
    print('%-22s %10s %14s %14s %12s' % ('', 'seconds', 'QEMU read MiB',
                                         'QEMU write MiB', 'ack rate'))
    for name, r in (('cinder migrate (ours)', ours),
                    ('full mirror (legacy)', mirror)):
        print('%-22s %10.2f %14.1f %14.1f %12.2f' % (
            name, r['seconds'], r['read'] / mib, r['written'] / mib,
            r['rate']))
    print('ours/mirror time: %.2f (target <= 1.0); ack rate during / '
          'before: ours %.2f (target >= 0.9)'
          % (ours['seconds'] / mirror['seconds'], ours['rate']),
          flush=True)


if __name__ == '__main__':
    main()
