"""The compute manager's volume migration paths, over the real database.

The hypervisor is MigrationDriver: it keeps where each migrated disk's
writes go, and any of its steps can be made to fail a number of times,
before or after it moved the disk. Failed steps are retried every
[compute] volume_migration_retry_interval, set as small as it may be.
"""

import json
import threading
import time

from oslo_db import exception as db_exception
import oslo_messaging as messaging
import pytest

from nova_volmig import exception
from nova_volmig.compute import manager
from nova_volmig.compute import migration_states as ms
from nova_volmig.compute import states
from nova_volmig.db import api as db
from nova_volmig.virt import driver as virt_driver
from tests.unit.nova_volmig import conftest
from tests.unit.nova_volmig import fakes
from volmig_common import context as volmig_context

LIVE = virt_driver.LIVE
OFFLINE = virt_driver.OFFLINE
ON_SOURCE = virt_driver.ON_SOURCE
ON_OVERLAY = virt_driver.ON_OVERLAY
ON_DESTINATION = virt_driver.ON_DESTINATION
RETRY_INTERVAL = 0.1  # the smallest the option allows


class MigrationDriver(fakes.FakeDriver):
    """FakeDriver with the volume migration steps."""

    _MOVES_TO = {
        'start': None,  # ON_OVERLAY or ON_SOURCE, per the mode
        'switch': ON_DESTINATION,
        'finish': ON_DESTINATION,
        'cancel': ON_SOURCE,
    }

    def __init__(self):
        super().__init__()
        self.location = {}      # migration id -> ON_*
        self.calls = []         # (step, status, error, task state)
        self.hooks = {}         # step -> callable(migration), run first
        self._failures = {}     # step -> [times, moved]
        self.locate_errors = 0

    def fail(self, step, times=1, moved=False):
        """``step`` fails ``times`` times; after it moved the disk if
        ``moved``."""
        self._failures[step] = [times, moved]

    def steps(self, step=None):
        return [call for call in self.calls
                if step is None or call[0] == step]

    def _run(self, step, instance, migration, moves_to):
        context = volmig_context.get_admin_context()
        record = db.migration_get(context, migration['id'])
        self.calls.append((
            step, record['status'], record['error'],
            db.instance_get(context, instance['uuid'])['task_state']))
        if step in self.hooks:
            self.hooks[step](migration)
        failure = self._failures.get(step)
        if failure and failure[0] > 0:
            failure[0] -= 1
            if failure[1]:
                self.location[migration['id']] = moves_to
            raise exception.HypervisorError(reason='%s failed' % step)
        self.location[migration['id']] = moves_to

    def locate_volume_migration(self, instance, migration):
        if self.locate_errors:
            self.locate_errors -= 1
            raise exception.HypervisorError(reason='where is it?')
        return self.location.get(migration['id'], ON_SOURCE)

    def start_volume_migration(self, instance, migration):
        if self.location.get(migration['id']) == ON_OVERLAY:
            mode = LIVE  # a retry
        elif self.power[instance['uuid']] == states.RUNNING:
            mode = LIVE
        else:
            mode = OFFLINE
        self._run('start', instance, migration,
                  ON_OVERLAY if mode == LIVE else ON_SOURCE)
        return mode

    def switch_volume_migration(self, instance, migration):
        assert json.loads(migration['new_connection_info'])
        self._run('switch', instance, migration, ON_DESTINATION)

    def finish_volume_migration(self, instance, migration, progress):
        self._run('finish', instance, migration, ON_DESTINATION)
        progress(50)
        progress(100)

    def cancel_volume_migration(self, instance, migration, progress):
        self._run('cancel', instance, migration, ON_SOURCE)
        progress(100)


@pytest.fixture
def driver():
    return MigrationDriver()


@pytest.fixture
def conf(conf):
    conf.set_override('volume_migration_retry_interval', RETRY_INTERVAL,
                      group='compute')
    conf.set_override('volume_migration_switch_wait', 10, group='compute')
    return conf


@pytest.fixture
def managers(conf, driver, volumes, compute_manager):
    """Every compute manager of the test (a restart makes another); each
    must have no worker left at the end."""
    made = [compute_manager]

    def restart():
        compute = manager.ComputeManager(conf, driver=driver,
                                         volume_api=volumes)
        made.append(compute)
        return compute
    yield restart
    conftest.wait_for(lambda: not any(compute._workers for compute in made))


@pytest.fixture
def compute(compute_manager, managers):
    return compute_manager


class Server:
    """An instance on compute1 with one attached volume."""

    def __init__(self, context, driver, volumes, running=True):
        self.context = context
        self.volumes = volumes
        self.instance = db.instance_create(context, {
            'name': 'vm1', 'project_id': 'project', 'user_id': 'user',
            'host': 'compute1', 'image_ref': 'volmig-guest',
            'flavor_name': 'm1.tiny', 'memory_mb': 256, 'vcpus': 1,
            'vm_state': states.ACTIVE if running else states.STOPPED})
        self.uuid = self.instance['uuid']
        driver.power[self.uuid] = (states.RUNNING if running
                                   else states.SHUTDOWN)
        self.bdms = [self.attach('/dev/vdb')]

    def attach(self, device_name):
        volume_id = self.volumes.add_volume()
        attachment = self.volumes.attachment_create(self.context,
                                                    volume_id, self.uuid)
        info = self.volumes.attachment_update(
            self.context, attachment['id'], volume_id,
            {'host': 'compute1'})['connection_info']
        self.volumes.attachment_complete(self.context, attachment['id'],
                                         volume_id)
        return db.bdm_create(self.context, {
            'instance_uuid': self.uuid, 'volume_id': volume_id,
            'attachment_id': attachment['id'], 'device_name': device_name,
            'connection_info': json.dumps(info),
            'delete_on_termination': False})

    def begin(self, bdm=None, claim=True):
        """What the API records before it asks the compute service to
        start: the instance claimed, a migration ``starting``."""
        bdm = bdm or self.bdms[0]
        if claim:
            db.instance_begin_action(self.context, self.uuid,
                                     'migrate_volume')
        return db.migration_create(self.context, {
            'attachment_id': bdm['attachment_id'],
            'instance_uuid': self.uuid, 'volume_id': bdm['volume_id'],
            'host': 'compute1', 'device_name': bdm['device_name'],
            'source_connection_info': bdm['connection_info']})['id']

    def complete(self, migration_id):
        """The API's side of complete: a destination attachment, the
        record ``completing``."""
        volume_id = self.migration(migration_id)['volume_id']
        new = self.volumes.attachment_create(self.context, volume_id,
                                             self.uuid)
        db.migration_transition(self.context, migration_id, ms.COMPLETE,
                                {'new_attachment_id': new['id']})
        return new['id']

    def migration(self, migration_id):
        return db.migration_get(self.context, migration_id)

    def status(self, migration_id):
        return self.migration(migration_id)['status']

    def task_state(self):
        return db.instance_get(self.context, self.uuid)['task_state']


@pytest.fixture
def server(admin_context, driver, volumes, conf):
    return Server(admin_context, driver, volumes)


def _started(compute, server, **kwargs):
    migration_id = server.begin(**kwargs)
    compute.start_volume_migration(server.context, migration_id)
    assert server.status(migration_id) == ms.STARTED
    return migration_id


def _raised(call, *args):
    """The exception an RPC endpoint raised (wrapped as expected)."""
    with pytest.raises(messaging.ExpectedException) as caught:
        call(*args)
    return caught.value.exc_info[1]


def _wait_final(compute, server, migration_id):
    """Waits (bounded) for the migration to end and its worker to go."""
    conftest.wait_for(lambda: server.status(migration_id) in ms.FINAL
                      and migration_id not in compute._workers)
    return server.migration(migration_id)


# -- the worker -------------------------------------------------------------

def _to_finishing(compute, server, migration_id):
    server.complete(migration_id)
    compute.complete_volume_migration(server.context, migration_id)


def _to_cancelling(compute, server, migration_id):
    db.migration_transition(server.context, migration_id, ms.CANCEL)
    compute.cancel_volume_migration(server.context, migration_id)


def _to_reconciling(compute, server, migration_id):
    # The API gave up on an answer: the compute service finds out.
    db.migration_transition(server.context, migration_id, ms.ROLL_BACK,
                            {'error': 'the start did not answer'})
    compute.resume_volume_migrations()


@pytest.mark.parametrize('driving,step,final,error', [
    (_to_finishing, 'finish', ms.COMPLETED, None),
    (_to_cancelling, 'cancel', ms.CANCELLED, None),
    (_to_reconciling, 'cancel', ms.ERROR, 'the start did not answer'),
], ids=['finishing', 'cancelling', 'reconciling'])
def test_worker_retries_until_done(compute, server, driver, driving, step,
                                   final, error):
    migration_id = _started(compute, server)
    driver.fail(step, times=2)
    driving(compute, server, migration_id)
    migration = _wait_final(compute, server, migration_id)
    assert migration['status'] == final
    assert migration['error'] == error
    assert migration['progress'] == (100 if final != ms.ERROR else 0)
    calls = driver.steps(step)
    assert len(calls) == 3
    # Each try in the step's status, the instance held all along; the
    # failure is shown while it is retried, a reason to roll back kept.
    driving_status = calls[0][1]
    assert driving_status in ms.DRIVEN
    assert [call[1] for call in calls] == [driving_status] * 3
    assert [call[3] for call in calls] == [states.MIGRATING_VOLUME] * 3
    retried_error = error or 'Hypervisor error: %s failed' % step
    assert [call[2] for call in calls[1:]] == [retried_error] * 2
    # Released at the very end only.
    assert server.task_state() is None
    assert driver.location[migration_id] == (
        ON_DESTINATION if final == ms.COMPLETED else ON_SOURCE)


def _fails_recording_the_error(compute, driver, monkeypatch):
    driver.fail('finish')
    update = db.migration_update

    def migration_update(context, migration_id, values):
        if 'error' in values:
            monkeypatch.setattr(db, 'migration_update', update)
            raise db_exception.DBConnectionError()
        return update(context, migration_id, values)
    monkeypatch.setattr(db, 'migration_update', migration_update)


def _fails_reading_the_status(compute, driver, monkeypatch):
    get = db.migration_get

    def migration_get(context, migration_id):
        # The worker's read of the status, under its lock.
        if (threading.current_thread().name.startswith('volume-migration')
                and compute._workers_lock.locked()):
            monkeypatch.setattr(db, 'migration_get', get)
            raise db_exception.DBConnectionError()
        return get(context, migration_id)
    monkeypatch.setattr(db, 'migration_get', migration_get)


@pytest.mark.parametrize('fault', [_fails_recording_the_error,
                                   _fails_reading_the_status],
                         ids=['recording-the-error', 'reading-the-status'])
def test_worker_stopped_by_the_database_is_started_again(
        compute, server, driver, monkeypatch, fault):
    """A database error outside a step ends the worker: the periodic
    task starts another, which goes on."""
    migration_id = _started(compute, server)
    server.complete(migration_id)
    fault(compute, driver, monkeypatch)
    compute.complete_volume_migration(server.context, migration_id)
    conftest.wait_for(lambda: migration_id not in compute._workers)
    assert server.status(migration_id) in (ms.COMPLETING, ms.FINISHING)
    compute.periodic_tasks()
    assert _wait_final(compute, server, migration_id)['status'] == (
        ms.COMPLETED)
    assert server.task_state() is None


# -- switch -----------------------------------------------------------------

def _destination_refused(driver, volumes):
    def attachment_update(*args):
        raise exception.VolumeServiceError(reason='no destination')
    volumes.attachment_update = attachment_update


def _switch_fails(driver, volumes):
    driver.fail('switch')


@pytest.mark.parametrize('fault,reason', [
    (_destination_refused, 'The volume service failed: no destination'),
    (_switch_fails, 'Hypervisor error: switch failed'),
], ids=['destination-refused', 'switch-fails'])
def test_switch_failure_before_the_disk_moved_rolls_back(
        compute, server, driver, volumes, fault, reason):
    migration_id = _started(compute, server)
    server.complete(migration_id)
    fault(driver, volumes)
    compute.complete_volume_migration(server.context, migration_id)
    migration = _wait_final(compute, server, migration_id)
    assert migration['status'] == ms.ERROR
    assert migration['error'] == reason
    # Rolled back while reconciling, the reason kept.
    assert driver.steps('cancel') == [
        ('cancel', ms.RECONCILING, reason, states.MIGRATING_VOLUME)]
    assert driver.steps('finish') == []
    assert driver.location[migration_id] == ON_SOURCE
    assert server.task_state() is None
    bdm = db.bdm_get_by_volume(server.context, server.uuid,
                               migration['volume_id'])
    assert bdm['attachment_id'] == migration['attachment_id']


def _moved_then_fails(driver):
    driver.fail('switch', times=2, moved=True)


def _fails_where_unknown(driver):
    driver.fail('switch')
    driver.locate_errors = 1


@pytest.mark.parametrize('fault', [_moved_then_fails, _fails_where_unknown],
                         ids=['disk-on-destination', 'location-unknown'])
def test_switch_failure_is_retried_forward(compute, server, driver,
                                           volumes, fault):
    """Once the guest may write the destination, or when nobody knows,
    the switch is tried again, never rolled back."""
    migration_id = _started(compute, server)
    new_attachment_id = server.complete(migration_id)
    fault(driver)
    compute.complete_volume_migration(server.context, migration_id)
    migration = _wait_final(compute, server, migration_id)
    assert migration['status'] == ms.COMPLETED
    assert migration['error'] is None
    assert driver.steps('cancel') == []
    switches = driver.steps('switch')
    assert len(switches) >= 2
    assert {call[1] for call in switches} == {ms.COMPLETING}
    bdm = db.bdm_get_by_volume(server.context, server.uuid,
                               migration['volume_id'])
    assert bdm['attachment_id'] == new_attachment_id
    assert json.loads(bdm['connection_info']) == json.loads(
        migration['new_connection_info'])
    assert ('complete', new_attachment_id) in volumes.calls
    assert server.task_state() is None


def test_complete_waits_for_the_switch_and_a_second_one_does_not(
        compute, server, driver):
    migration_id = _started(compute, server)
    server.complete(migration_id)
    entered = threading.Event()
    release = threading.Event()

    def switch(migration):
        entered.set()
        assert release.wait(10)
    driver.hooks['switch'] = switch
    first = threading.Thread(target=compute.complete_volume_migration,
                             args=(server.context, migration_id))
    first.start()
    try:
        assert entered.wait(10)
        began = time.monotonic()
        compute.complete_volume_migration(server.context, migration_id)
        assert time.monotonic() - began < 2  # switch_wait is 10
        assert first.is_alive()  # still waiting for the switch
        assert server.status(migration_id) == ms.COMPLETING
    finally:
        release.set()
        first.join(10)
    assert not first.is_alive()
    assert server.status(migration_id) in (ms.FINISHING, ms.COMPLETED)
    assert _wait_final(compute, server, migration_id)['status'] == (
        ms.COMPLETED)
    assert len(driver.steps('switch')) == 1


def test_complete_answers_after_switch_wait(compute, server, driver, conf):
    conf.set_override('volume_migration_switch_wait', 0.2, group='compute')
    migration_id = _started(compute, server)
    server.complete(migration_id)
    release = threading.Event()
    driver.hooks['switch'] = lambda migration: release.wait(10)
    try:
        compute.complete_volume_migration(server.context, migration_id)
        assert server.status(migration_id) == ms.COMPLETING
    finally:
        release.set()
    assert _wait_final(compute, server, migration_id)['status'] == (
        ms.COMPLETED)


# -- start ------------------------------------------------------------------

@pytest.mark.parametrize('running', [True, False],
                         ids=['running', 'shut-off'])
def test_start(compute, server, driver, admin_context, volumes, running):
    if not running:
        server = Server(admin_context, driver, volumes, running=False)
    migration_id = _started(compute, server)
    assert server.migration(migration_id)['mode'] == (
        LIVE if running else OFFLINE)
    assert server.task_state() == states.MIGRATING_VOLUME
    assert migration_id not in compute._workers


@pytest.mark.parametrize('cancel_failures', [0, 1])
def test_start_failure_rolls_back(compute, server, driver, cancel_failures):
    migration_id = server.begin()
    driver.fail('start', moved=True)
    driver.fail('cancel', times=cancel_failures)
    error = _raised(compute.start_volume_migration, server.context,
                    migration_id)
    assert isinstance(error, exception.HypervisorError)
    assert error.message == 'Hypervisor error: start failed'
    if not cancel_failures:
        # Rolled back before the answer.
        assert migration_id not in compute._workers
        assert server.status(migration_id) == ms.ERROR
        assert server.task_state() is None
    migration = _wait_final(compute, server, migration_id)
    assert migration['status'] == ms.ERROR
    assert migration['error'] == 'Hypervisor error: start failed'
    assert server.task_state() is None
    assert len(driver.steps('cancel')) == 1 + cancel_failures
    assert driver.location[migration_id] == ON_SOURCE


def test_start_the_api_gave_up_on_is_rolled_back(compute, server, driver):
    migration_id = server.begin()

    def api_gives_up(migration):
        db.migration_transition(server.context, migration_id, ms.ROLL_BACK,
                                {'error': 'no answer'})
    driver.hooks['start'] = api_gives_up
    error = _raised(compute.start_volume_migration, server.context,
                    migration_id)
    assert isinstance(error, exception.VolumeMigrationInvalidState)
    migration = _wait_final(compute, server, migration_id)
    assert migration['status'] == ms.ERROR
    assert migration['error'] == 'no answer'
    assert driver.location[migration_id] == ON_SOURCE
    assert server.task_state() is None


# -- restart and the periodic task -----------------------------------------

def _starting(compute, server, driver):
    return server.begin()


def _started_on(location):
    def make(compute, server, driver):
        migration_id = _started(compute, server)
        driver.location[migration_id] = location
        return migration_id
    return make


def _started_offline(compute, server, driver):
    driver.power[server.uuid] = states.SHUTDOWN
    return _started(compute, server)


def _completing(compute, server, driver):
    migration_id = _started(compute, server)
    server.complete(migration_id)
    return migration_id


def _finishing(compute, server, driver):
    migration_id = _completing(compute, server, driver)
    db.migration_update(server.context, migration_id, {
        'new_connection_info': json.dumps({'data': {'device_path': 'd'}})})
    db.migration_transition(server.context, migration_id, ms.SWITCHED)
    driver.location[migration_id] = ON_DESTINATION
    return migration_id


def _cancelling(compute, server, driver):
    migration_id = _started(compute, server)
    db.migration_transition(server.context, migration_id, ms.CANCEL)
    return migration_id


def _reconciling(compute, server, driver):
    migration_id = _started(compute, server)
    db.migration_transition(server.context, migration_id, ms.ROLL_BACK,
                            {'error': 'the start did not answer'})
    return migration_id


@pytest.mark.parametrize('before,after,location', [
    (_starting, ms.ERROR, ON_SOURCE),
    (_started_on(ON_OVERLAY), ms.STARTED, ON_OVERLAY),
    (_started_on(ON_SOURCE), ms.ERROR, ON_SOURCE),
    (_started_offline, ms.STARTED, ON_SOURCE),
    (_completing, ms.COMPLETED, ON_DESTINATION),
    (_finishing, ms.COMPLETED, ON_DESTINATION),
    (_cancelling, ms.CANCELLED, ON_SOURCE),
    (_reconciling, ms.ERROR, ON_SOURCE),
], ids=['starting', 'started-on-overlay', 'started-no-longer-on-overlay',
        'started-offline', 'completing', 'finishing', 'cancelling',
        'reconciling'])
def test_restart_goes_on(compute, managers, server, driver, before, after,
                         location):
    migration_id = before(compute, server, driver)
    status = server.status(migration_id)
    del driver.calls[:]
    restarted = managers()
    restarted.init_host()
    if after in ms.FINAL:
        migration = _wait_final(restarted, server, migration_id)
        assert server.task_state() is None
    else:
        migration = server.migration(migration_id)
        assert server.task_state() == states.MIGRATING_VOLUME
        # Its guest must (again) boot on its overlay, if it has one.
        assert [call[0] for call in driver.calls] == ['start']
    assert migration['status'] == after
    assert driver.location.get(migration_id, ON_SOURCE) == location
    if status in (ms.STARTING, ms.STARTED) and after == ms.ERROR:
        assert migration['error'] in (
            'the compute service restarted during start',
            'the guest no longer writes to its overlay')


def test_periodic_task_drives_a_cancel_whose_cast_was_lost(
        compute, server, driver):
    migration_id = _started(compute, server)
    db.migration_transition(server.context, migration_id, ms.CANCEL)
    # The cast never arrived: nothing runs.
    assert migration_id not in compute._workers
    assert server.status(migration_id) == ms.CANCELLING
    compute.periodic_tasks()
    assert _wait_final(compute, server, migration_id)['status'] == (
        ms.CANCELLED)
    assert server.task_state() is None


# -- the instance's task state ---------------------------------------------

def test_end_of_one_migration_keeps_the_instance_of_another(
        compute, server, driver):
    """A late end of one migration of the instance does not free it while
    another one is unfinished."""
    first = _started(compute, server)
    second = server.begin(server.attach('/dev/vdc'), claim=False)
    compute.start_volume_migration(server.context, second)
    _to_cancelling(compute, server, first)
    assert _wait_final(compute, server, first)['status'] == ms.CANCELLED
    assert server.task_state() == states.MIGRATING_VOLUME
    db.instance_end_migration(server.context, server.migration(first))
    assert server.task_state() == states.MIGRATING_VOLUME
    _to_cancelling(compute, server, second)
    assert _wait_final(compute, server, second)['status'] == ms.CANCELLED
    assert server.task_state() is None
