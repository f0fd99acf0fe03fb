"""Faults in the middle of a migration: no acknowledged write is lost.

Each cell of ``MATRIX`` is a real run on the embedded default: the test
guest writes acknowledged records, a fault strikes in one phase of the
migration, the migration is driven to its end, and then every record the
guest acknowledged must be on the volume the instance ends up using, no
file that a domain definition (live or persistent) names may be missing,
and the instance must be left in no task state.

Faults: ``destroy`` (``virsh destroy``: what a host losing power does to
the guest), ``poweroff`` (the guest powers itself off: the ACPI power
button), ``qemu-kill`` (SIGKILL of QEMU), ``host-reboot`` (kill -9 of the
services, the domain destroyed, the services started again),
``libvirtd-restart`` (libvirtd stops and starts; guests keep running),
``services-kill`` (kill -9 of the services, cinder-volmig-volume among
them: the embedded default runs them in one process; the guest keeps
running);
and, in its own test, the overlays' filesystem filling up (QEMU pauses the
guest; cancel frees the room and resumes it).

Phases: ``started`` (just after start: the guest writes to its overlay),
``copy`` (Cinder's copy under way), ``commit`` (complete answered; the
background commit into the destination runs, slowed to 1 MiB/s),
``cancel-commit`` (cancel answered; the commit back into the source runs).

Cells that do not exist, and why:
- ``libvirtd-restart`` at ``started`` or ``copy``: nothing of libvirt runs
  then; the guest keeps writing to its overlay.
- ``host-reboot`` at ``copy``: it is ``services-kill`` and ``destroy`` at
  ``copy`` at once; each has its cell.
- ``services-kill`` at ``started``, ``commit`` and ``cancel-commit``:
  ``test_nova_volume_migration.py`` kills the services there.
- an RPC reply later than its timeout needs the services in separate
  processes: ``test_distributed.py::test_start_reply_late_rolls_back``.
- the switch of ``complete``: it moves only the overlay's few MiB and
  lasts well under a second; a fault there cannot be aimed at. Its
  outcomes (switched or not) are those of the cells just before and after.
"""

import os
import signal
import subprocess

import pytest

from nova_volmig.virt.libvirt import config as libvirt_config
from tests.functional import deployment as deployment_mod
from tests.functional import guest_records
from tests.functional import volumes

# (fault, phase, end): end is how the migration is driven to its end.
MATRIX = [
    ('destroy', 'started', 'complete'),
    ('destroy', 'started', 'cancel'),
    ('poweroff', 'copy', 'cinder-migrate'),
    ('qemu-kill', 'copy', 'cinder-migrate'),
    ('destroy', 'commit', 'complete'),
    ('qemu-kill', 'cancel-commit', 'cancel'),
    ('poweroff', 'cancel-commit', 'cancel'),
    ('host-reboot', 'started', 'complete'),
    ('host-reboot', 'commit', 'complete'),
    ('libvirtd-restart', 'commit', 'complete'),
    ('services-kill', 'copy', 'cinder-migrate'),
]
# Enough distinct 4 KiB blocks in an overlay for a commit at 1 MiB/s to
# last a few seconds.
BLOCKS_FOR_A_SLOW_COMMIT = 1100


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    with deployment_mod.deployment_for_migrations(
            str(tmp_path_factory.mktemp('state')), guest_image, 8 << 20,
            nova_conf={'libvirt': {'volume_migration_commit_bandwidth': '1'},
                       'compute': {'volume_migration_retry_interval': '1'}}
    ) as deploy:
        yield deploy


def _domain(server_id):
    return 'volmig-' + server_id


def _qemu_pid(server_id):
    with open('/run/libvirt/qemu/%s.pid' % _domain(server_id)) as f:
        return int(f.read())


def _shut_off(server_id):
    return subprocess.run(['virsh', 'domstate', _domain(server_id)],
                          capture_output=True, text=True
                          ).stdout.strip() == 'shut off'


def _restart_libvirtd():
    with open('/run/libvirtd.pid') as f:
        os.kill(int(f.read()), signal.SIGTERM)
    deployment_mod.wait_for(
        lambda: subprocess.run(['virsh', 'version'],
                               capture_output=True).returncode != 0,
        30, 'libvirtd to stop')
    deployment_mod.run_tool('start-libvirtd.sh')


def strike(d, server_id, fault):
    """Makes ``fault`` happen to the guest (and the host) now."""
    if fault == 'destroy':
        subprocess.run(['virsh', 'destroy', _domain(server_id)], check=True,
                       capture_output=True)
    elif fault == 'poweroff':
        subprocess.run(['virsh', 'shutdown', _domain(server_id)],
                       check=True, capture_output=True)
    elif fault == 'qemu-kill':
        os.kill(_qemu_pid(server_id), signal.SIGKILL)
    elif fault == 'host-reboot':
        d.kill()
        subprocess.run(['virsh', 'destroy', _domain(server_id)], check=True,
                       capture_output=True)
        d.restart()
        return
    elif fault == 'libvirtd-restart':
        _restart_libvirtd()
        return
    elif fault == 'services-kill':
        d.kill()
        d.restart()
        return
    deployment_mod.wait_for(lambda: _shut_off(server_id), 60,
                            'the guest to stop')


class Scenario(deployment_mod.WritingGuest):
    """A writing guest on backend2, and what the migration needs."""

    def __init__(self, d, name):
        super().__init__(d, name, backend='backend2')
        self.source = self.path
        destination = d.create_volume(size=1, volume_type='backend1')
        self.destination = d.volume_path(destination)
        self.new_attachment = d.new_attachment(destination['id'],
                                               self.server)

    def acks(self):
        return guest_records.count_acks(guest_records.last_boot(
            self.d.console(self.server)))

    def check(self, path):
        """Every acknowledged record of the last boot is on ``path``; no
        file a definition of the domain names is missing; no task state."""
        console = guest_records.last_boot(self.d.console(self.server))
        assert guest_records.verify_volume(path, console) == []
        for flag in ([], ['--inactive']):
            xml = subprocess.run(
                ['virsh', 'dumpxml', _domain(self.server), *flag],
                capture_output=True, text=True, check=True).stdout
            for named in libvirt_config.disk_files(xml):
                assert os.path.exists(named), named
        deployment_mod.wait_for(lambda: self.task_state() is None, 60,
                                'the task state to clear')
        return guest_records.count_acks(console)


def _nova_driven(d, s, fault, phase, end):
    """The test plays Cinder: start, copy, then complete or cancel."""
    response = d.start_migration(s.attachment)
    assert response.status_code == 200, response.text
    d.wait_acks(s.server, BLOCKS_FOR_A_SLOW_COMMIT
                if phase in ('commit', 'cancel-commit') else 100)
    volumes.copy_data(s.source, s.destination)
    overlay = d.disk_source(s.server)
    if phase == 'started':
        strike(d, s.server, fault)
    if end == 'complete':
        response = d.complete_migration(s.attachment, s.new_attachment)
        assert response.status_code == 200, response.text
        if phase == 'commit':
            deployment_mod.wait_for(
                lambda: d.disk_source(s.server).endswith(
                    '-destination.qcow2'), 60, 'the commit to run',
                interval=0.05)
            strike(d, s.server, fault)
        d.wait_migration(s.attachment, 'completed')
        final = s.destination
    else:
        assert d.cancel_migration(s.attachment).status_code == 202
        if phase == 'cancel-commit':
            deployment_mod.wait_for(
                lambda: d.disk_source(s.server) == overlay, 60,
                'the commit back to run', interval=0.05)
            strike(d, s.server, fault)
        d.wait_migration(s.attachment, 'cancelled')
        final = s.source
    d.wait_disk_source(s.server, final)
    return final


def _cinder_driven(d, s, fault):
    """``cinder migrate`` to the end, the fault during Cinder's copy."""
    # Data past the guest's 4 MiB of records makes the copy last.
    volumes.fill(s.source, 24, start=8)
    d.cinder_cli('migrate', s.volume['id'], d.volume_host('backend1'))
    deployment_mod.wait_for(
        lambda: 0 < (volumes.volume_at(d, s.volume['id'])[
            'migration_progress'] or 0) < 100, 120,
        'the copy to be under way', interval=0.05)
    strike(d, s.server, fault)
    volume = volumes.wait_migrated(d, s.volume['id'])
    assert volume['migration_status'] == 'success', volume
    final = d.volume_path(volume)
    d.wait_disk_source(s.server, final)
    return final


@pytest.mark.parametrize('fault,phase,end', MATRIX,
                         ids=['-'.join(cell) for cell in MATRIX])
def test_no_acknowledged_write_is_lost(deployment, report, fault, phase,
                                       end):
    d = deployment
    s = Scenario(d, 'fault')
    if end == 'cinder-migrate':
        final = _cinder_driven(d, s, fault)
    else:
        final = _nova_driven(d, s, fault, phase, end)
    acks = s.check(final)
    assert acks > 0
    assert d.overlays(s.server) == []
    report('%s during %s, then %s: %d acknowledged writes kept'
           % (fault, phase, end, acks))


@pytest.fixture(scope='module')
def small_overlays(guest_image, tmp_path_factory):
    """A deployment whose overlays live on a 4 MiB filesystem: a guest
    writing to its overlay fills it up."""
    state_dir = tmp_path_factory.mktemp('state')
    image, overlays = state_dir / 'overlays.img', state_dir / 'overlays'
    overlays.mkdir()
    with open(image, 'wb') as f:
        f.truncate(4 << 20)
    subprocess.run(['mkfs.ext4', '-q', str(image)], check=True)
    subprocess.run(['mount', '-o', 'loop', str(image), str(overlays)],
                   check=True)
    try:
        with deployment_mod.Deployment(
                str(state_dir), guest_image,
                nova_conf={'libvirt': {
                    'volume_migration_overlays_path': str(overlays),
                    'volume_migration_overlays_reserve': '0'}}) as deploy:
            yield deploy
    finally:
        subprocess.run(['umount', str(overlays)], check=False)


def test_full_overlay_disk_pauses_the_guest_until_cancel(small_overlays):
    d = small_overlays
    s = Scenario(d, 'enospc')
    assert d.start_migration(s.attachment).status_code == 200
    # QEMU pauses the guest when its overlay cannot grow.
    deployment_mod.wait_for(
        lambda: subprocess.run(
            ['virsh', 'domstate', '--reason', _domain(s.server)],
            capture_output=True, text=True).stdout.strip()
        == 'paused (I/O error)', 120, 'the overlay disk to fill up')
    assert d.cancel_migration(s.attachment).status_code == 202
    d.wait_migration(s.attachment, 'cancelled')
    d.wait_disk_source(s.server, s.source)
    d.wait_acks(s.server, 100)  # resumed, writing to the source again
    assert d.overlays(s.server) == []
    assert s.check(s.source) > 0
