"""Faults in the middle of a migration: no acknowledged write is lost.

Each cell of ``MATRIX`` is a real run: the test guest writes acknowledged
records, a fault strikes in one phase of the migration, the migration is
driven to its end, and then every record the guest acknowledged must be
on the volume the instance ends up using, both definitions of the domain
(live and persistent) must use that volume, no file either names may be
missing, and the instance must be left in no task state.

Faults: ``destroy`` (``virsh destroy``: what a host losing power does to
the guest), ``poweroff`` (the guest powers itself off: the ACPI power
button), ``qemu-kill`` (SIGKILL of QEMU), ``host-reboot`` (kill -9 of the
services, the domain destroyed, the services started again),
``libvirtd-restart`` (libvirtd stops and starts; guests keep running),
``services-kill`` (kill -9 of the services, cinder-volmig-volume among
them: the embedded default runs them in one process; the guest keeps
running), ``reply-late`` (nova-volmig-compute stopped with SIGSTOP until
the API's RPC call to it timed out, then let go on: the services run as
separate processes for it, ``distributed.py``); and, in its own test, the
overlays' filesystem filling up (QEMU pauses the guest; cancel frees the
room and resumes it).

Phases: ``started`` (just after start: the guest writes to its overlay),
``copy`` (Cinder's copy under way), ``switch`` (complete called: the
overlay is being copied onto the destination, slowed to 2 MiB/s),
``commit`` (complete answered; the background commit into the
destination runs, slowed to 1 MiB/s), ``cancel-commit`` (cancel
answered; the commit back into the source runs).

Ends: ``cinder-migrate`` (``cinder migrate`` drives it all; the fault is
aimed at what Nova shows), or the test plays Cinder and ends with
Nova's ``complete`` or ``cancel``. Cancel ends only a ``started``
migration and what follows it: Cinder has no cancel of its own, so its
phases are ended by Nova's cancel.

Cells that do not exist, and why:
- ``libvirtd-restart`` at ``started`` or ``copy``: no block job runs
  then; the guest keeps writing to its overlay and libvirt to nothing.
- ``host-reboot`` at ``copy`` and ``switch``: it is ``services-kill`` and
  ``destroy`` at once, and each has its cell there.
- ``poweroff`` and ``qemu-kill`` at ``started``, ``switch`` and
  ``commit``: to the migration they are ``destroy`` (the domain stops;
  how it stopped does not reach libvirt's block jobs), which has those
  cells; they have cells of their own where a commit back must survive
  them (``copy``, ``cancel-commit``).
- ``reply-late`` at ``copy``, ``commit`` and ``cancel-commit``: no call
  waits for the compute service then (Cinder copies; the commits run in
  the background after the answer); the late replies are those of start
  and complete.
- the disk filling up is its own test: it needs its own deployment.
"""

import os
import signal
import subprocess

import pytest

from nova_volmig.virt.libvirt import config as libvirt_config
from tests.functional import deployment as deployment_mod
from tests.functional import distributed
from tests.functional import guest_records
from tests.functional import volumes

# (fault, phase, end)
MATRIX = [
    ('destroy', 'started', 'complete'),
    ('destroy', 'started', 'cancel'),
    ('host-reboot', 'started', 'complete'),
    ('services-kill', 'started', 'complete'),
    ('reply-late', 'started', 'cinder-migrate'),
    ('poweroff', 'copy', 'cinder-migrate'),
    ('qemu-kill', 'copy', 'cinder-migrate'),
    ('services-kill', 'copy', 'cinder-migrate'),
    ('destroy', 'switch', 'cinder-migrate'),
    ('services-kill', 'switch', 'cinder-migrate'),
    ('reply-late', 'switch', 'cinder-migrate'),
    ('destroy', 'commit', 'cinder-migrate'),
    ('host-reboot', 'commit', 'cinder-migrate'),
    ('libvirtd-restart', 'commit', 'complete'),
    ('services-kill', 'commit', 'complete'),
    ('qemu-kill', 'cancel-commit', 'cancel'),
    ('poweroff', 'cancel-commit', 'cancel'),
    ('services-kill', 'cancel-commit', 'cancel'),
]
# Enough distinct 4 KiB blocks in an overlay for a commit at 1 MiB/s to
# last a few seconds.
BLOCKS_FOR_A_SLOW_COMMIT = 1100
# MiB past the guest's records (4 MiB): at backend2's 8 MiB/s, a copy
# that is seen under way, and a longer one during which the guest fills
# its overlay for a switch or a commit that lasts.
FILL_MIB = {'copy': 24, 'switch': 64, 'commit': 64}
# Start's reply lost: Nova goes back to the source, Cinder ends in error.
OUTCOMES = {('reply-late', 'started'): 'error'}


def _nova_conf(**extra):
    conf = {'libvirt': {'volume_migration_commit_bandwidth': '1',
                        'volume_migration_switch_bandwidth': '2'},
            'compute': {'volume_migration_retry_interval': '1'}}
    conf.update(extra)
    return conf


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    with deployment_mod.deployment_for_migrations(
            str(tmp_path_factory.mktemp('state')), guest_image, 8 << 20,
            nova_conf=_nova_conf()) as deploy:
        yield deploy


@pytest.fixture(scope='module')
def separate_processes(guest_image, tmp_path_factory):
    d = distributed.DistributedDeployment(
        str(tmp_path_factory.mktemp('state')), guest_image,
        # Late replies are late after 20 s, not after a minute.
        nova_conf=_nova_conf(DEFAULT={'rpc_response_timeout': 20}),
        cinder_conf={'backend2': {'migration_bandwidth_limit': 8 << 20}})
    try:
        d.start()
        yield d
    finally:
        d.stop()


def _domain(server_id):
    return 'volmig-' + server_id


def _qemu_pid(server_id):
    with open('/run/libvirt/qemu/%s.pid' % _domain(server_id)) as f:
        return int(f.read())


def _shut_off(server_id):
    return subprocess.run(['virsh', 'domstate', _domain(server_id)],
                          capture_output=True, text=True
                          ).stdout.strip() == 'shut off'


def _switching(server_id):
    """Whether the overlay is being copied onto the destination."""
    xml = subprocess.run(['virsh', 'dumpxml', _domain(server_id)],
                         capture_output=True, text=True).stdout
    job, path = (libvirt_config.disk_mirror(xml, 'vda') if xml
                 else (None, None))
    return job == 'copy' and path.endswith('-destination.qcow2')


def _restart_libvirtd():
    with open('/run/libvirtd.pid') as f:
        pid = int(f.read())
    os.kill(pid, signal.SIGTERM)
    # It stops answering well before it exits; a start meanwhile would
    # find it still running and wait for an answer that never comes.
    deployment_mod.wait_for(lambda: not os.path.exists('/proc/%d' % pid),
                            60, 'libvirtd to exit')
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

    def check(self, path):
        """Every acknowledged record of the last boot is on ``path``,
        which both definitions of the domain use; no file they name is
        missing; no task state."""
        self.d.wait_disk_source(self.server, path)
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
        if fault == 'services-kill':
            assert d.migration(s.attachment)['status'] == 'started'
    if end == 'complete':
        response = d.complete_migration(s.attachment, s.new_attachment)
        assert response.status_code == 200, response.text
        if phase == 'commit':
            deployment_mod.wait_for(
                lambda: d.disk_source(s.server).endswith(
                    '-destination.qcow2'), 60, 'the commit to run',
                interval=0.05)
            strike(d, s.server, fault)
        assert d.wait_migration(s.attachment, 'completed')['progress'] == 100
        return s.destination
    assert d.cancel_migration(s.attachment).status_code == 202
    if phase == 'cancel-commit':
        deployment_mod.wait_for(
            lambda: d.disk_source(s.server) == overlay, 60,
            'the commit back to run', interval=0.05)
        strike(d, s.server, fault)
    d.wait_migration(s.attachment, 'cancelled')
    return s.source


def _migrate(d, s, phase):
    volumes.fill(s.source, FILL_MIB.get(phase, 24), start=8)
    d.cinder_cli('migrate', s.volume['id'], d.volume_host('backend1'))


def _wait_copying(d, s):
    deployment_mod.wait_for(
        lambda: 0 < (volumes.volume_at(d, s.volume['id'])[
            'migration_progress'] or 0) < 100, 120,
        'the copy to be under way', interval=0.05)


def _wait_phase(d, s, phase):
    """Waits for a phase of a migration ``cinder migrate`` drives."""
    _wait_copying(d, s)
    if phase == 'switch':
        deployment_mod.wait_for(lambda: _switching(s.server), 120,
                                'the switch', interval=0.02)
    elif phase == 'commit':
        deployment_mod.wait_for(
            lambda: d.disk_source(s.server).endswith('-destination.qcow2'),
            120, 'the commit into the destination', interval=0.05)


def _cinder_driven(d, s, fault, phase):
    """``cinder migrate`` to the end, the fault during ``phase``."""
    _migrate(d, s, phase)
    _wait_phase(d, s, phase)
    strike(d, s.server, fault)
    return volumes.wait_migrated(d, s.volume['id'])


def _nova_status(d, attachment_id):
    """The status of Nova's migration of an attachment; None before
    Cinder asked for one."""
    response = d.compute.get('/os-volume-migrations/%s' % attachment_id,
                             version=deployment_mod.MIGRATION_VERSION)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    return response.json()['volume_migration']['status']


def _log_says(d, name, text):
    with open(os.path.join(d.state_dir, 'log', name + '.log')) as f:
        return text in f.read()


def _reply_late(d, s, phase):
    """``cinder migrate`` while the compute service answers late: it
    stops before start (``started``), or once the copy is under way and
    until Cinder's complete failed (``switch``)."""
    compute = d.services['nova-compute'][1]
    destinations = set(os.listdir(d.backend_dir('backend1')))
    if phase == 'switch':
        _migrate(d, s, phase)
        _wait_copying(d, s)
    compute.send_signal(signal.SIGSTOP)
    try:
        if phase == 'started':
            _migrate(d, s, phase)
            # rpc_response_timeout later, the API says it does not know.
            deployment_mod.wait_for(
                lambda: _nova_status(d, s.attachment) == 'reconciling',
                120, 'the start to time out')
        else:
            deployment_mod.wait_for(
                lambda: _log_says(d, 'cinder-volume-backend2',
                                  'Nova is completing'),
                120, 'the complete to time out')
        assert volumes.volume_at(d, s.volume['id'])[
            'migration_status'] == 'migrating'
    finally:
        compute.send_signal(signal.SIGCONT)
    volume = volumes.wait_migrated(d, s.volume['id'])
    if phase == 'started':
        assert d.migration(s.attachment)['error']
        # Nothing of the destination is left.
        assert set(os.listdir(d.backend_dir('backend1'))) == destinations
    return volume


@pytest.mark.parametrize('fault,phase,end', MATRIX,
                         ids=['-'.join(cell) for cell in MATRIX])
def test_no_acknowledged_write_is_lost(request, report, fault, phase, end):
    d = request.getfixturevalue(
        'separate_processes' if fault == 'reply-late' else 'deployment')
    s = Scenario(d, 'fault')
    if end != 'cinder-migrate':
        final = _nova_driven(d, s, fault, phase, end)
    else:
        volume = (_reply_late(d, s, phase) if fault == 'reply-late'
                  else _cinder_driven(d, s, fault, phase))
        assert volume['migration_status'] == OUTCOMES.get(
            (fault, phase), 'success'), volume
        final = d.volume_path(volume)
        moved = volume['migration_status'] == 'success'
        assert (final != s.source) == moved, (final, s.source)
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
