"""The libvirt driver's volume migration steps, against fake_libvirt.

Each test builds one guest with one volume (a raw file) on the fake and
runs the driver's steps on it, as the compute manager does: start, then
complete (switch, finish) or cancel. The guest writes as it goes; every
write it made must end up in the volume it uses at the end.
"""

import json
import os
import shutil

import pytest

from nova_volmig import conf as nova_conf
from nova_volmig import exception
from nova_volmig.virt import driver as virt_driver
from nova_volmig.virt.libvirt import driver as libvirt_driver
from tests.unit.nova_volmig import fake_libvirt

UUID = '0b6c7e52-4f4a-4d59-9a3e-5f0f2b8f8a11'
TARGET = 'vdb'
MIGRATION_ID = 7

LIVE = virt_driver.LIVE
OFFLINE = virt_driver.OFFLINE
ON_SOURCE = virt_driver.ON_SOURCE
ON_OVERLAY = virt_driver.ON_OVERLAY
ON_DESTINATION = virt_driver.ON_DESTINATION


def _connection_info(path):
    return json.dumps({'driver_volume_type': 'file',
                       'data': {'device_path': path, 'format': 'raw'}})


class World:
    """One guest, its volume and the migration of that volume."""

    def __init__(self, tmp_path, monkeypatch, conf, running=True,
                 follows=True):
        volumes = tmp_path / 'volumes'
        self.source = str(volumes / 'source')
        self.dest = str(volumes / 'destination')
        self.other = str(volumes / 'other')
        self.expected = {'0': 'boot'}
        fake_libvirt.make_raw(self.source, self.expected)
        self.host = fake_libvirt.FakeHost()
        self.driver = libvirt_driver.LibvirtDriver(conf)
        fake_libvirt.install(monkeypatch, self.driver, self.host)
        self.driver.init_host('compute1')
        self.instance = {'uuid': UUID}
        self.guest = self.host.add_guest(
            libvirt_driver.domain_name(self.instance), UUID,
            {TARGET: self.source}, active=running)
        self.guest.config_follows_live = follows
        self.migration = {
            'id': MIGRATION_ID, 'attachment_id': 'attachment-source',
            'new_attachment_id': None, 'device_name': '/dev/' + TARGET,
            'mode': None,
            'source_connection_info': _connection_info(self.source),
            'new_connection_info': None}
        base = os.path.join(conf.libvirt.volume_migration_overlays_path,
                            '%s-%s' % (UUID, MIGRATION_ID))
        self.overlay = base + '.qcow2'
        self.dest_overlay = base + '-destination.qcow2'
        self.progress = []
        self._writes = 0

    # What the compute manager and Cinder do.

    def start(self):
        mode = self.driver.start_volume_migration(self.instance,
                                                  self.migration)
        self.migration['mode'] = mode
        return mode

    def copy(self):
        """Cinder's copy of the source, once start answered."""
        shutil.copyfile(self.source, self.dest)
        self.migration['new_attachment_id'] = 'attachment-destination'
        self.migration['new_connection_info'] = _connection_info(self.dest)

    def switch(self):
        self.driver.switch_volume_migration(self.instance, self.migration)

    def finish(self):
        self.driver.finish_volume_migration(self.instance, self.migration,
                                            self.progress.append)

    def cancel(self):
        self.driver.cancel_volume_migration(self.instance, self.migration,
                                            self.progress.append)

    def locate(self):
        return self.driver.locate_volume_migration(self.instance,
                                                   self.migration)

    # The guest.

    def write(self, label):
        """The guest writes, if it runs: block 0 again and a new one."""
        if not self.guest.is_active():
            return
        self._writes += 1
        blocks = {'0': label, str(self._writes): label}
        self.guest.write(TARGET, blocks)
        self.expected.update(blocks)

    def persistent(self):
        return self.guest.persistent[TARGET]

    def current(self):
        if self.guest.is_active():
            return self.guest.live_chain(TARGET)[0]
        return self.persistent()[0]

    def check_ends_on(self, path):
        """The migration is over: the guest uses ``path`` alone, with
        every write it made, and nothing of the migration is left."""
        assert self.host.violations == []
        assert self.persistent() == (path, 'raw')
        if not self.guest.is_active():
            self.guest.launch()  # it boots on the right volume
        assert self.guest.live_chain(TARGET) == [path]
        assert self.guest.get_block_device(TARGET).job() is None
        assert fake_libvirt.contents(path) == self.expected
        assert not os.path.exists(self.overlay)
        assert not os.path.exists(self.dest_overlay)
        expected = ON_SOURCE if path == self.source else ON_DESTINATION
        assert self.locate() == expected


@pytest.fixture
def conf(tmp_path):
    conf = nova_conf.new_conf()
    conf([], project='nova_volmig')
    conf.set_override('state_path', str(tmp_path))
    return conf


@pytest.fixture
def world(tmp_path, monkeypatch, conf):
    def make(running=True, follows=True):
        return World(tmp_path, monkeypatch, conf, running, follows)
    return make


# -- each step, uninterrupted ------------------------------------------------

@pytest.mark.parametrize('follows', [True, False],
                         ids=['libvirt-updates-config', 'driver-rewrites'])
def test_live_complete(world, follows):
    w = world(follows=follows)
    w.write('before start')
    assert w.start() == LIVE
    # Writes go to the overlay, and a guest that stops boots on it.
    assert w.guest.live_chain(TARGET) == [w.overlay, w.source]
    assert w.persistent() == (w.overlay, 'qcow2')
    assert w.locate() == ON_OVERLAY
    w.write('started')
    assert fake_libvirt.contents(w.source) == {'0': 'before start',
                                               '1': 'before start'}
    w.copy()
    w.switch()
    # The source is free: only the destination and the overlays remain.
    assert w.guest.live_chain(TARGET) == [w.dest_overlay, w.dest]
    assert w.persistent() == (w.dest_overlay, 'qcow2')
    assert w.source not in w.host.named_files()
    assert w.locate() == ON_DESTINATION
    w.write('switched')
    w.finish()
    assert w.progress == [50, 100]
    w.check_ends_on(w.dest)
    pivots = [call for call in w.host.calls if call[0] == 'pivot']
    assert pivots == [('pivot', TARGET, 'copy', w.dest_overlay),
                      ('pivot', TARGET, 'active-commit', w.dest)]


def test_block_jobs_run_at_the_configured_bandwidths(world, conf):
    conf.set_override('volume_migration_switch_bandwidth', 3,
                      group='libvirt')
    conf.set_override('volume_migration_commit_bandwidth', 5,
                      group='libvirt')
    w = world()
    w.start()
    w.copy()
    w.switch()
    w.finish()
    jobs = [call for call in w.host.calls
            if call[0] in ('copy_shallow', 'commit_active')]
    assert jobs == [('copy_shallow', TARGET, w.dest_overlay, 3),
                    ('commit_active', TARGET, 5)]


@pytest.mark.parametrize('follows', [True, False],
                         ids=['libvirt-updates-config', 'driver-rewrites'])
def test_live_cancel(world, follows):
    w = world(follows=follows)
    w.write('before start')
    w.start()
    w.write('started')
    w.cancel()
    assert w.progress == [50, 100]
    w.check_ends_on(w.source)
    assert ('pivot', TARGET, 'active-commit', w.source) in w.host.calls


def test_start_with_the_guest_shut_off_is_offline(world):
    w = world(running=False)
    assert w.start() == OFFLINE
    assert w.host.calls == []
    assert w.persistent() == (w.source, 'raw')
    assert w.locate() == ON_SOURCE
    w.copy()
    w.switch()
    assert w.persistent() == (w.dest, 'raw')
    w.finish()
    w.check_ends_on(w.dest)


def test_offline_cancel(world):
    w = world(running=False)
    w.start()
    w.cancel()
    w.check_ends_on(w.source)


def test_start_refused_without_live_migration(world, conf):
    conf.set_override('live_volume_migration', False, group='libvirt')
    w = world()
    with pytest.raises(exception.VolumeMigrationNotPossible):
        w.start()
    assert w.host.calls == []
    w2 = world(running=False)
    assert w2.start() == OFFLINE


def _free_mib(conf):
    stat = os.statvfs(conf.libvirt.volume_migration_overlays_path)
    return stat.f_bavail * stat.f_frsize >> 20


def test_start_refused_without_the_overlays_reserve(world, conf):
    w = world()
    conf.set_override('volume_migration_overlays_reserve',
                      _free_mib(conf) + 1024, group='libvirt')
    with pytest.raises(exception.VolumeMigrationNoSpace) as raised:
        w.start()
    assert raised.value.code == 409
    assert [call for call in w.host.calls if call[0] != 'unlink'] == []
    assert not os.path.exists(w.overlay)
    assert w.locate() == ON_SOURCE


def test_switch_without_room_for_the_destination_overlay_goes_back(world,
                                                                   conf):
    w = world()
    w.start()
    w.write('started')
    w.copy()
    # Less room than the overlay's copy needs above the reserve.
    conf.set_override('volume_migration_overlays_reserve',
                      _free_mib(conf) + 1, group='libvirt')
    with pytest.raises(exception.VolumeMigrationNoSpace):
        w.switch()
    assert w.locate() == ON_OVERLAY
    assert not os.path.exists(w.dest_overlay)
    conf.clear_override('volume_migration_overlays_reserve', group='libvirt')
    w.cancel()
    w.check_ends_on(w.source)


@pytest.mark.parametrize('step', ['cancel', 'finish'])
def test_a_guest_paused_on_a_full_overlay_disk_goes_on(world, step):
    w = world()
    w.start()
    w.write('started')
    if step == 'finish':
        w.copy()
        w.switch()
    w.guest.paused_on_io_error = True
    getattr(w, step)()
    assert not w.guest.is_paused_on_io_error()
    w.check_ends_on(w.source if step == 'cancel' else w.dest)


@pytest.mark.parametrize('stopped', [False, True],
                         ids=['running', 'stopped-since'])
def test_start_again_changes_nothing(world, stopped):
    w = world(follows=False)
    w.start()
    if stopped:
        w.guest.stop()
    del w.host.calls[:]
    assert w.start() == LIVE
    assert w.host.calls == []
    assert w.persistent() == (w.overlay, 'qcow2')
    assert w.locate() == ON_OVERLAY


def test_shut_off_cancel_commits_before_removing_the_overlay(world):
    w = world()
    w.write('before start')
    w.start()
    w.write('started')
    w.guest.stop()
    del w.host.calls[:]
    w.cancel()
    names = w.host.names()
    commit = names.index('commit')
    assert w.host.calls[commit] == ('commit', w.overlay)
    assert ('unlink', w.overlay) in w.host.calls[commit:]
    assert 'unlink' not in names[:commit]
    assert w.host.calls[names.index('define_guest')] == (
        'define_guest', w.guest.name, {TARGET: (w.source, 'raw')})
    w.check_ends_on(w.source)


def test_shut_off_complete_moves_the_overlay_onto_the_destination(world):
    w = world()
    w.write('before start')
    w.start()
    w.write('started')
    w.guest.stop()
    w.copy()
    del w.host.calls[:]
    w.switch()
    assert w.host.calls == [
        ('rebase_unsafe', w.overlay, w.dest),
        ('unlink', w.dest_overlay),
        ('link', w.overlay, w.dest_overlay),
        ('define_guest', w.guest.name, {TARGET: (w.dest_overlay, 'qcow2')}),
    ]
    assert os.path.samefile(w.overlay, w.dest_overlay)
    assert fake_libvirt.read_image(w.dest_overlay)['backing'] == w.dest
    assert w.locate() == ON_DESTINATION
    del w.host.calls[:]
    w.finish()
    names = w.host.names()
    assert w.host.calls[names.index('commit')] == ('commit',
                                                   w.dest_overlay)
    assert names.index('commit') < names.index('unlink')
    w.check_ends_on(w.dest)


@pytest.mark.parametrize('ready', [False, True])
def test_cancel_aborts_a_leftover_copy_and_never_pivots_it(world, ready):
    """What an interrupted switch leaves: a copy into the destination
    overlay. Cancel ends it without pivoting and commits instead."""
    w = world()
    w.write('before start')
    w.start()
    w.write('started')
    w.copy()
    w.host.interrupt(call='pivot' if ready else 'wait_ready')
    with pytest.raises(fake_libvirt.Interrupted):
        w.switch()
    assert w.guest.get_block_device(TARGET).mirror() == (
        'copy', w.dest_overlay)
    w.write('during the copy')
    del w.host.calls[:]
    w.host.clear_faults()
    w.cancel()
    names = w.host.names()
    assert names.index('abort') < names.index('commit_active')
    assert [call for call in w.host.calls if call[0] == 'pivot'] == [
        ('pivot', TARGET, 'active-commit', w.source)]
    w.check_ends_on(w.source)


def test_switch_goes_on_with_the_copy_an_interrupted_switch_left(world):
    w = world()
    w.start()
    w.write('started')
    w.copy()
    w.host.interrupt(call='pivot')
    with pytest.raises(fake_libvirt.Interrupted):
        w.switch()
    # The copy is ready: the destination overlay has every write, and a
    # guest that stops now boots on it.
    assert w.persistent() == (w.dest_overlay, 'qcow2')
    w.host.clear_faults()
    del w.host.calls[:]
    w.switch()
    assert 'abort' not in w.host.names()
    assert 'copy_shallow' not in w.host.names()
    assert w.host.names().count('pivot') == 1
    w.write('switched')
    w.finish()
    w.check_ends_on(w.dest)


@pytest.mark.parametrize('call,after', [
    ('copy_shallow', True), ('wait_ready', False), ('wait_ready', True),
    ('pivot', False)])
def test_guest_stopping_during_the_switch_switches_offline(world, call,
                                                          after):
    w = world()
    w.start()
    w.write('started')
    w.copy()
    w.host.on(w.guest.stop, call=call, after=after)
    w.switch()
    assert w.persistent() == (w.dest_overlay, 'qcow2')
    assert w.locate() == ON_DESTINATION
    w.finish()
    w.check_ends_on(w.dest)


def _other_job(w, kind):
    """Makes the disk's job write into another file, as if libvirt ran
    another job than the one asked for."""
    def swap():
        job = w.guest.live[TARGET].job
        job.kind = kind
        job.dest = w.other
    return swap


@pytest.mark.parametrize('step', ['switch', 'finish', 'cancel'])
def test_pivot_refused_when_the_mirror_is_not_the_expected_one(world, step):
    w = world()
    w.start()
    w.copy()
    fake_libvirt.make_raw(w.other)
    if step == 'finish':
        w.switch()
    kind = 'active-commit' if step == 'switch' else 'copy'
    w.host.on(_other_job(w, kind), call='wait_ready', after=True)
    del w.host.calls[:]
    with pytest.raises(exception.HypervisorError,
                       match='not .*%s' % ('the copy into'
                                           if step == 'switch'
                                           else 'a commit into')):
        getattr(w, step)()
    assert 'pivot' not in w.host.names()


@pytest.mark.parametrize('step', ['start', 'switch', 'finish', 'cancel',
                                  'locate'])
@pytest.mark.parametrize('running', [True, False],
                         ids=['running', 'shut-off'])
def test_a_disk_on_an_unexpected_file_raises(world, step, running):
    """However it got there, a disk on a file of no step of the
    migration is left alone."""
    w = world(running=running)
    w.start()
    w.copy()
    fake_libvirt.make_raw(w.other)
    w.guest.stop()
    w.guest.persistent[TARGET] = (w.other, 'raw')
    if running:
        w.guest.launch()
    del w.host.calls[:]
    with pytest.raises(exception.HypervisorError, match=w.other):
        getattr(w, step)()
    assert w.host.names() == []
    assert w.current() == w.other


@pytest.mark.parametrize('step', ['start', 'finish', 'cancel'])
@pytest.mark.parametrize('definition', ['persistent', 'live'])
def test_a_file_a_definition_names_is_never_removed(world, step,
                                                    definition):
    """A step refuses to remove a migration file that a definition still
    names, however it got there (here another disk uses it)."""
    w = world()
    if step != 'start':
        w.start()
        w.copy()
    if step == 'finish':
        w.switch()
    if not os.path.exists(w.overlay):
        fake_libvirt.make_raw(w.overlay)
    w.guest.add_disk('vdc', w.overlay, live=definition == 'live')
    del w.host.calls[:]
    with pytest.raises(exception.HypervisorError,
                       match='%s still used' % w.overlay):
        getattr(w, step)()
    assert ('unlink', w.overlay) not in w.host.calls
    assert os.path.exists(w.overlay)
    assert w.host.violations == []


# -- each step again, after it was interrupted at each point ----------------
#
# A step stops at one of its calls: the compute service dies (the guest
# may go on writing, or stop with it: a host reboot), or the guest stops
# (QEMU dies) and the step goes on without it. Then the manager goes on:
# the same step again, or back to the source, and the migration ends.
# Every interruption point of the step is tried, before and after the
# call takes effect.

FAULTS = [
    # (running, fault, libvirt updates the persistent definition)
    (True, 'crash', True),
    (True, 'crash', False),
    (True, 'crash and guest stops', True),
    (True, 'guest stops', True),
    (True, 'guest stopped before, crash', True),
    (False, 'crash', True),
]
FAULT_IDS = ['running-crash', 'running-crash-driver-rewrites',
             'running-host-reboot', 'running-guest-stops',
             'stopped-since-start-crash', 'shut-off-crash']

# The step interrupted, and what comes after it.
FLOWS = {
    # A start that did not answer is rolled back; one that did, and is
    # run again by a restarted compute service, goes on.
    'start, roll back': ('start', 'cancel'),
    'start, again': ('start', 'start'),
    # The manager's way: forward once the disk uses the destination.
    'switch, as the manager': ('switch', None),
    'switch, again': ('switch', 'switch'),
    'finish, again': ('finish', 'finish'),
    'cancel, again': ('cancel', 'cancel'),
}


def _before(w, step, fault):
    """The steps before ``step``, the guest writing in between."""
    w.write('before start')
    if step != 'start':
        w.start()
        w.write('started')
    if step in ('switch', 'finish'):
        w.copy()
    if step == 'finish':
        w.switch()
        w.write('switched')
    if fault == 'guest stopped before, crash':
        w.guest.stop()


def _after(w, step, then, failed):
    """The rest of the migration; the volume the guest ends on."""
    if failed:
        if then is None:  # switch, as the manager
            then = 'switch' if w.locate() == ON_DESTINATION else 'cancel'
        getattr(w, then)()
        w.write('after ' + then)
    else:
        then = step
    if then == 'cancel':
        return w.source
    if then == 'start':
        w.copy()
        then = 'switch'
        w.switch()
        w.write('switched')
    if then == 'switch':
        w.finish()
    return w.dest


def _interrupt(w, index, fault, after):
    if fault == 'guest stops':
        w.host.on(w.guest.stop, index=index, after=after)
    else:
        w.host.interrupt(index, after=after)


@pytest.mark.parametrize('flow', sorted(FLOWS))
@pytest.mark.parametrize('running,fault,follows', FAULTS, ids=FAULT_IDS)
def test_interrupted_step_goes_on(world, flow, running, fault, follows):
    step, then = FLOWS[flow]
    # The calls of the step, uninterrupted.
    w = world(running, follows)
    _before(w, step, fault)
    first = len(w.host.calls)
    active = w.guest.is_active()
    getattr(w, step)()
    count = len(w.host.calls) - first
    # Only a shut-off guest's start has nothing to do.
    assert count > 0 or (step == 'start' and not active)
    for index in range(first, first + count):
        for after in (False, True):
            w = world(running, follows)
            _before(w, step, fault)
            assert len(w.host.calls) == first
            _interrupt(w, index, fault, after)
            where = '%s %s call %d' % (
                'after' if after else 'before', fault, index)
            try:
                getattr(w, step)()
            except (fake_libvirt.Interrupted,
                    exception.HypervisorError) as e:
                failed = e
            else:
                failed = None
            assert fault == 'guest stops' or failed, where
            w.host.clear_faults()
            w.write('after the fault')
            if fault == 'crash and guest stops':
                w.guest.stop()
            end = _after(w, step, then, failed)
            try:
                w.check_ends_on(end)
            except AssertionError as e:
                raise AssertionError('%s: %s\n%s' % (
                    where, e, w.host.calls)) from e
