"""A volume service that dies at any point of a migration finishes it or
undoes it when it runs again, and deletes neither volume while Nova's
answer does not release it.

The service's death is a BaseException raised around one side effect, so
that nothing after it runs; a fresh Migrator then plays the restarted
service. RPC to the destination is a direct call of its manager.
"""

import errno
import os
import time

import pytest
import webob

from cinder_volmig import exception
from cinder_volmig import services
from cinder_volmig.compute import nova
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import api as volume_api
from cinder_volmig.volume import migration
from cinder_volmig.volume import migration_steps
from cinder_volmig.volume import rpcapi
from tests.unit.cinder_volmig import fakes
from volmig_common import context
from volmig_common import migration_contract as contract

SERVER = '6d3a1b2c-8f4e-4a5b-9c6d-7e8f9a0b1c2d'
OTHER_SERVER = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b'
CONNECTOR = {'host': 'compute1', 'mountpoint': '/dev/vdb'}
DATA = b'record\n' * 4096


class Crash(BaseException):
    """The process died here."""


class DirectRPC:
    """Calls the manager a volume's host names, in this thread."""

    def __init__(self, managers):
        self.managers = {m.host: m for m in managers}
        self.casts = []

    def _manager(self, volume):
        return self.managers[rpcapi.service_host(volume.host)]

    def create_volume(self, ctxt, volume):
        self._manager(volume).create_volume(ctxt, volume.id)

    def migrate_volume(self, ctxt, volume, migration_id):
        self.casts.append(migration_id)

    def __getattr__(self, name):
        def call(ctxt, volume, *args, **kwargs):
            kwargs.pop('timeout', None)
            return getattr(self._manager(volume), name)(
                ctxt, volume.id, *args, **kwargs)
        return call


class FakeCompute:
    """The Nova client, in process, over FakeNova's state machine."""

    def __init__(self, cinder, context):
        self.nova = fakes.FakeNova()
        self.cinder = cinder
        self.context = context

    def _do(self, method, path, body=None):
        request = webob.Request.blank(
            '/v2.1/os-volume-migrations' + path, method=method,
            headers={'OpenStack-API-Version': nova.API_VERSION})
        if body is not None:
            request.json = body
        with self.nova.lock:
            status, result = self.nova._handle(request)
        if status == 409:
            raise exception.NovaConflict(reason=result['error']['message'])
        if status == 404:
            raise exception.NovaNotFound(attachment_id=path)
        return result['volume_migration'] if result else None

    def start(self, context, attachment_id):
        return self._do('POST', '', {'volume_migration': {
            'attachment_id': attachment_id}})

    def complete(self, context, attachment_id, new_attachment_id):
        self.cinder.attachment_update(self.context, new_attachment_id,
                                      CONNECTOR)
        self.cinder.attachment_complete(self.context, new_attachment_id)
        return self._do('POST', '/%s/action' % attachment_id, {
            'complete': {'new_attachment_id': new_attachment_id}})

    def cancel(self, context, attachment_id):
        self._do('POST', '/%s/action' % attachment_id, {'cancel': None})

    def show(self, context, attachment_id):
        return self._do('GET', '/%s' % attachment_id)


@pytest.fixture
def world(conf, admin_context, fake_copy):
    service = services.worker_service(conf)
    for manager in service.managers:
        manager.driver.do_setup()
        manager.report_state()
    rpc = DirectRPC(service.managers)
    cinder = volume_api.API(conf, volume_rpcapi=rpc)
    compute = FakeCompute(cinder, admin_context)
    [source] = [m for m in service.managers if m.host == 'node1@fast']

    def migrator():
        return migration.Migrator(conf, source, compute_api=compute,
                                  volume_rpcapi=rpc)

    return type('World', (), dict(
        service=service, rpc=rpc, cinder=cinder, compute=compute,
        source=source, migrator=staticmethod(migrator), copy=fake_copy))


def _in_use_volume(world, context, attached=True):
    volume = world.cinder.create(context, 1, volume_type='fast')
    with open(world.source.driver.local_path(volume), 'r+b') as f:
        f.seek(8192)
        f.write(DATA)
    if attached:
        attachment = world.cinder.attachment_create(
            context, volume.id, SERVER, connector=CONNECTOR)
        world.cinder.attachment_complete(context, attachment.id)
    return db_api.volume_get(context, volume.id)


def _read(path):
    with open(path, 'rb') as f:
        f.seek(8192)
        return f.read(len(DATA))


def _assert_moved(context, volume_id, status, slow_dir):
    volume = db_api.volume_get(context, volume_id)
    assert volume.migration_status == 'success'
    assert volume.status == status
    assert volume.host == 'node1@slow#slow'
    assert os.listdir(slow_dir) == ['volume-%s' % volume.name_id]
    assert _read(os.path.join(slow_dir, 'volume-%s' % volume.name_id)) \
        == DATA
    assert len(db_api.volume_get_all(context, include_targets=True)) == 1
    return volume


def _crash_after(monkeypatch, owner, name):
    real = getattr(owner, name)

    def crashing(*args, **kwargs):
        real(*args, **kwargs)
        raise Crash(name)

    monkeypatch.setattr(owner, name, crashing)


def _crash_before(monkeypatch, owner, name):
    def crashing(*args, **kwargs):
        raise Crash(name)

    monkeypatch.setattr(owner, name, crashing)


# Each (where, how) is a point a service may die at.
POINTS = [
    ('rpc', 'create_migration_destination', _crash_before),
    ('rpc', 'create_migration_destination', _crash_after),
    ('db', 'volume_create', _crash_after),
    ('db', 'attachment_create', _crash_after),
    ('compute', 'start', _crash_before),
    ('compute', 'start', _crash_after),
    ('copy', '__call__', None),
    ('compute', 'complete', _crash_before),
    ('compute', 'complete', _crash_after),
    ('db', 'migration_swap_identity', _crash_before),
    ('db', 'migration_swap_identity', _crash_after),
    ('driver', 'delete_volume', _crash_before),
]


@pytest.mark.parametrize('where, name, how', POINTS)
def test_restart_finishes_an_in_use_migration(world, admin_context, conf,
                                              monkeypatch, where, name,
                                              how):
    volume = _in_use_volume(world, admin_context)
    source_path = world.source.driver.local_path(volume)
    [src_attachment] = volume.attachments
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    with monkeypatch.context() as patch:
        if where == 'copy':
            world.copy.fail = Crash('copy')
        else:
            owner = {'rpc': world.rpc, 'db': db_api,
                     'compute': world.compute,
                     'driver': world.source.driver}[where]
            how(patch, owner, name)
        with pytest.raises(Crash):
            world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    assert db_api.volume_get(admin_context, volume.id).migration_status \
        in ('migrating', 'completing')

    finished = world.migrator().run(admin_context, record.id)
    assert finished.step == 'success'
    moved = _assert_moved(admin_context, volume.id, 'in-use',
                          os.path.join(conf.state_path, 'volumes', 'slow'))
    assert not os.path.exists(source_path)
    [attachment] = moved.attachments
    assert attachment.id == finished.dst_attachment_id
    assert attachment.id != src_attachment.id
    assert attachment.attach_status == 'attached'
    nova_record = world.compute.nova.records[src_attachment.id]
    assert nova_record['status'] == 'completed'
    assert nova_record['new_attachment_id'] == attachment.id


@pytest.mark.parametrize('where, name, how', [
    p for p in POINTS if p[0] != 'compute'])
def test_restart_finishes_a_detached_migration(world, admin_context, conf,
                                               monkeypatch, where, name,
                                               how):
    if name == 'attachment_create':
        pytest.skip('a detached volume gets no destination attachment')
    volume = _in_use_volume(world, admin_context, attached=False)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow', lock_volume=True)
    with monkeypatch.context() as patch:
        if where == 'copy':
            world.copy.fail = Crash('copy')
        else:
            owner = {'rpc': world.rpc, 'db': db_api,
                     'driver': world.source.driver}[where]
            how(patch, owner, name)
        with pytest.raises(Crash):
            world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    assert db_api.volume_get(admin_context, volume.id).status \
        == 'maintenance'
    assert world.migrator().run(admin_context, record.id).step == 'success'
    _assert_moved(admin_context, volume.id, 'available',
                  os.path.join(conf.state_path, 'volumes', 'slow'))
    assert world.compute.nova.calls == []


def test_restart_rolls_back_when_nova_gave_up_meanwhile(
        world, admin_context, conf):
    volume, src_attachment_id, record = _died_copying(world, admin_context)
    world.compute.nova.set_status(src_attachment_id, contract.ERROR)

    assert world.migrator().run(admin_context, record.id).step == 'error'
    after = db_api.volume_get(admin_context, volume.id)
    assert (after.status, after.migration_status, after.host,
            after.name_id) == ('in-use', 'error', volume.host, None)
    assert [a.id for a in after.attachments] == [src_attachment_id]
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) == []
    assert _read(world.source.driver.local_path(after)) == DATA


def test_rollback_never_cancels_what_nova_completed(world, admin_context,
                                                    conf, monkeypatch):
    """A lost reply to complete, then a failure: Nova already writes the
    destination, so the migration goes forward."""
    volume = _in_use_volume(world, admin_context)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    real = world.compute.complete

    def lost_reply(*args):
        real(*args)
        raise exception.NovaError(reason='connection reset')

    monkeypatch.setattr(world.compute, 'complete', lost_reply)
    assert world.migrator().run(admin_context, record.id).step == 'success'
    assert 'cancel' not in world.compute.nova.names()
    _assert_moved(admin_context, volume.id, 'in-use',
                  os.path.join(conf.state_path, 'volumes', 'slow'))


def test_enospc_on_the_destination_cancels(world, admin_context, conf):
    volume = _in_use_volume(world, admin_context)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = OSError(errno.ENOSPC, 'No space left on device')
    finished = world.migrator().run(admin_context, record.id)
    assert finished.step == 'error'
    assert 'No space left' in finished.error
    # Cancelled, then asked until Nova said it was back on the source.
    assert world.compute.nova.names()[-2:] == ['cancel', 'show']
    after = db_api.volume_get(admin_context, volume.id)
    assert (after.status, after.migration_status) == ('in-use', 'error')
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) == []


def test_started_service_resumes_migrations(conf, admin_context, fake_nova,
                                            fake_copy, world):
    """The real start-up path: init, RPC, then every unfinished migration
    of the service's backends picked up in the background."""
    volume = _in_use_volume(world, admin_context)
    [src_attachment] = volume.attachments
    cinder = volume_api.API(conf)
    fake_nova.on_complete = lambda record: (
        cinder.attachment_update(admin_context, record['new_attachment_id'],
                                 CONNECTOR),
        cinder.attachment_complete(admin_context,
                                   record['new_attachment_id']))
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    # Died mid-copy, with Nova's writes suspended; the restarted service
    # reaches that Nova over HTTP.
    world.copy.fail = Crash('copy')
    with pytest.raises(Crash):
        world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    fake_nova.records[src_attachment.id] = dict(
        world.compute.nova.records[src_attachment.id])

    service = services.worker_service(conf)
    service.start()
    try:
        deadline = time.monotonic() + 20
        while db_api.migration_get(admin_context,
                                   record.id).step != 'success':
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        service.stop()
    _assert_moved(admin_context, volume.id, 'in-use',
                  os.path.join(conf.state_path, 'volumes', 'slow'))
    assert fake_nova.names()[-1] == 'complete'


def test_lost_complete_is_repeated(world, admin_context):
    """Nova's complete accepted but never carried out (its RPC message to
    the compute service lost, e.g. in a RabbitMQ restart): the volume
    service must neither roll back nor delete the source, but complete
    again."""
    volume = _in_use_volume(world, admin_context)
    source_path = world.source.driver.local_path(volume)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    nova = world.compute.nova
    complete = world.compute.complete
    calls = []

    def lost_then_done(context, attachment_id, new_attachment_id):
        calls.append(attachment_id)
        if len(calls) == 1:
            # Nova recorded it, then its message to compute was lost.
            nova.records[attachment_id].update(
                status='completing', new_attachment_id=new_attachment_id)
            raise exception.NovaError(reason='did not answer (HTTP 503)')
        return complete(context, attachment_id, new_attachment_id)

    world.compute.complete = lost_then_done
    with pytest.raises(migration.RetryComplete):
        world.migrator().run(admin_context, record.id)
    stalled = db_api.migration_get(admin_context, record.id)
    assert stalled.step == 'completing'
    assert stalled.error is None
    assert os.path.exists(source_path)
    assert 'cancel' not in nova.names()
    assert db_api.volume_get(admin_context,
                             volume.id).migration_status == 'migrating'

    finished = world.migrator().run(admin_context, record.id)
    assert finished.step == 'success'
    assert len(calls) == 2
    assert not os.path.exists(source_path)
    [attachment_id] = nova.records
    assert nova.records[attachment_id]['status'] == 'completed'


# What Cinder may delete, from Nova's answer (migration_contract): the
# destination only once Nova is back on the source or never had the
# migration, the source only once Nova switched; else both are kept.

def _died_copying(world, context):
    """An in-use volume whose migration stopped in the middle of its
    copy, with Nova's writes suspended."""
    volume = _in_use_volume(world, context)
    record = world.cinder.migrate_volume(context, volume.id, 'node1@slow')
    world.copy.fail = Crash('copy')
    with pytest.raises(Crash):
        world.migrator().run(context, record.id)
    world.copy.fail = None
    [src_attachment] = volume.attachments
    return volume, src_attachment.id, record


def _assert_both_kept(context, conf, world, volume, record_id):
    migration_row = db_api.migration_get(context, record_id)
    assert migration_row.step == 'rolling_back'
    after = db_api.volume_get(context, volume.id)
    assert after.migration_status == 'migrating'
    assert db_api.volume_get(context, migration_row.dest_volume_id)
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) \
        == ['volume-%s' % migration_row.dest_volume_id]
    assert _read(world.source.driver.local_path(after)) == DATA


def _assert_rolled_back(context, conf, world, volume, record_id):
    assert db_api.migration_get(context, record_id).step == 'error'
    after = db_api.volume_get(context, volume.id)
    assert (after.status, after.migration_status) == ('in-use', 'error')
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) \
        == []
    assert _read(world.source.driver.local_path(after)) == DATA


@pytest.fixture
def short_cancel_wait(monkeypatch):
    monkeypatch.setattr(migration, 'CANCEL_WAIT', 0.2)
    monkeypatch.setattr(migration, 'NOVA_POLL_INTERVAL', 0.01)


@pytest.mark.parametrize('status', [contract.STARTING, contract.CANCELLING,
                                    contract.RECONCILING])
def test_rollback_keeps_both_while_nova_is_unsure(
        world, admin_context, conf, short_cancel_wait, status):
    volume, attachment_id, record = _died_copying(world, admin_context)
    nova = world.compute.nova
    nova.set_status(attachment_id, status)
    with pytest.raises(migration.RetryLater) as raised:
        world.migrator().run(admin_context, record.id)
    assert status in str(raised.value)
    assert 'cancel' not in nova.names()
    _assert_both_kept(admin_context, conf, world, volume, record.id)

    # Nova finds its way back to the source: the retry removes the
    # destination.
    nova.set_status(attachment_id, contract.CANCELLED)
    assert world.migrator().run(admin_context, record.id).step == 'error'
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


def test_nothing_is_deleted_while_nova_does_not_answer(
        world, admin_context, conf, monkeypatch):
    volume, attachment_id, record = _died_copying(world, admin_context)
    nova = world.compute.nova
    show = world.compute.show

    def unreachable(*args):
        raise exception.NovaError(reason='connection refused')

    # Copying: the copy is not redone without Nova's word.
    monkeypatch.setattr(world.compute, 'show', unreachable)
    with pytest.raises(migration.RetryLater):
        world.migrator().run(admin_context, record.id)
    assert db_api.migration_get(admin_context, record.id).step == 'copying'
    # Rolling back: the destination is not removed without it either.
    monkeypatch.setattr(world.compute, 'show', show)
    nova.set_status(attachment_id, contract.RECONCILING)
    with pytest.raises(migration.RetryLater):
        world.migrator().run(admin_context, record.id)
    nova.set_status(attachment_id, contract.ERROR)
    monkeypatch.setattr(world.compute, 'show', unreachable)
    with pytest.raises(migration.RetryLater):
        world.migrator().run(admin_context, record.id)
    _assert_both_kept(admin_context, conf, world, volume, record.id)

    monkeypatch.setattr(world.compute, 'show', show)
    assert world.migrator().run(admin_context, record.id).step == 'error'
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


def test_rollback_removes_the_destination_nova_never_had(
        world, admin_context, conf):
    volume, attachment_id, record = _died_copying(world, admin_context)
    del world.compute.nova.records[attachment_id]
    assert world.migrator().run(admin_context, record.id).step == 'error'
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


def test_copy_failure_cancels_and_waits_for_cancelled(
        world, admin_context, conf, monkeypatch, short_cancel_wait):
    volume = _in_use_volume(world, admin_context)
    [src_attachment] = volume.attachments
    nova = world.compute.nova
    nova.cancel_plan = (contract.CANCELLING, contract.CANCELLING,
                        contract.CANCELLED)
    # Nova's status when Cinder deleted the destination.
    seen = []
    delete = world.rpc.delete_migration_destination

    def deleting(context, dest):
        seen.append(nova.records[src_attachment.id]['status'])
        return delete(context, dest)

    monkeypatch.setattr(world.rpc, 'delete_migration_destination',
                        deleting, raising=False)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = OSError(errno.EIO, 'Input/output error')
    assert world.migrator().run(admin_context, record.id).step == 'error'
    assert nova.names()[-3:] == ['cancel', 'show', 'show']
    assert seen == [contract.CANCELLED]
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


def test_rollback_keeps_both_when_a_cancel_takes_too_long(
        world, admin_context, conf, short_cancel_wait):
    volume = _in_use_volume(world, admin_context)
    nova = world.compute.nova
    nova.cancel_plan = (contract.CANCELLING,)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = OSError(errno.EIO, 'Input/output error')
    with pytest.raises(migration.RetryLater):
        world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    assert nova.names().count('cancel') == 1
    _assert_both_kept(admin_context, conf, world, volume, record.id)


@pytest.mark.parametrize('lost', ['reply', 'process'])
def test_nova_finishing_means_switched(world, admin_context, conf,
                                       monkeypatch, lost):
    """Nova answered complete and commits the guest's writes into the
    destination: the source is free, whether Cinder learns it from the
    rollback (a lost reply) or from a restarted completing step."""
    volume = _in_use_volume(world, admin_context)
    source_path = world.source.driver.local_path(volume)
    nova = world.compute.nova
    nova.complete_plan = (contract.FINISHING,)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    real = world.compute.complete
    fail = {'reply': exception.NovaError(reason='connection reset'),
            'process': Crash('complete')}[lost]

    def complete_then_fail(*args):
        real(*args)
        raise fail

    with monkeypatch.context() as patch:
        patch.setattr(world.compute, 'complete', complete_then_fail)
        if lost == 'reply':
            finished = world.migrator().run(admin_context, record.id)
        else:
            with pytest.raises(Crash):
                world.migrator().run(admin_context, record.id)
            finished = world.migrator().run(admin_context, record.id)
    assert finished.step == 'success'
    assert 'cancel' not in nova.names()
    assert nova.names().count('complete') == 1
    assert not os.path.exists(source_path)
    _assert_moved(admin_context, volume.id, 'in-use',
                  os.path.join(conf.state_path, 'volumes', 'slow'))


def test_completing_waits_while_nova_reconciles(world, admin_context,
                                                monkeypatch):
    """Nova does not know whether its switch took place: Cinder neither
    deletes the source nor rolls back, it asks again later."""
    volume = _in_use_volume(world, admin_context)
    source_path = world.source.driver.local_path(volume)
    [src_attachment] = volume.attachments
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    nova = world.compute.nova

    def died_unsure(*args):
        nova.set_status(src_attachment.id, contract.RECONCILING)
        raise Crash('complete')

    with monkeypatch.context() as patch:
        patch.setattr(world.compute, 'complete', died_unsure)
        with pytest.raises(Crash):
            world.migrator().run(admin_context, record.id)
    with pytest.raises(migration.RetryLater):
        world.migrator().run(admin_context, record.id)
    assert db_api.migration_get(admin_context,
                                record.id).step == 'completing'
    assert os.path.exists(source_path)
    assert 'cancel' not in nova.names()

    # Reconciled: the switch had not taken place.
    nova.set_status(src_attachment.id, contract.STARTED)
    assert world.migrator().run(admin_context, record.id).step == 'success'
    assert not os.path.exists(source_path)


def test_a_retry_is_logged_without_a_traceback(world, admin_context,
                                               short_cancel_wait, caplog):
    volume, attachment_id, record = _died_copying(world, admin_context)
    world.compute.nova.set_status(attachment_id, contract.RECONCILING)
    caplog.set_level('INFO', logger='cinder_volmig')
    world.migrator().start(admin_context, record.id).join(10)
    [retry] = [r for r in caplog.records
               if 'retried later' in r.getMessage()]
    assert retry.levelname == 'WARNING'
    assert retry.exc_info is None
    assert 'reconciling' in retry.getMessage()
    assert not any(r.exc_info for r in caplog.records
                   if r.levelname in ('ERROR', 'CRITICAL'))


# One migration after another: the volume is busy until the last one is
# over, and a rollback only ever cancels the Nova migration it started.

def test_volume_stays_busy_until_the_rollback_removed_the_destination(
        world, admin_context, conf, monkeypatch):
    volume = _in_use_volume(world, admin_context)
    [attachment] = volume.attachments
    attachment_id = attachment.id
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = OSError(errno.EIO, 'Input/output error')

    def unreachable(*args):
        raise exception.VolumeBackendError(backend='node1@slow',
                                           reason='unreachable')

    with monkeypatch.context() as patch:
        patch.setattr(world.rpc, 'delete_migration_destination',
                      unreachable, raising=False)
        with pytest.raises(exception.VolumeBackendError):
            world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    # Nova is back on the source, the destination is still there: the
    # rollback is not over, the volume is not free.
    assert world.compute.nova.records[attachment_id]['status'] \
        == contract.CANCELLED
    _assert_both_kept(admin_context, conf, world, volume, record.id)
    with pytest.raises(exception.InvalidVolume) as refused:
        world.cinder.migrate_volume(admin_context, volume.id, 'node1@slow')
    assert 'already being migrated' in refused.value.message
    assert db_api.volume_get(admin_context, volume.id).migrations[0].id \
        == record.id

    assert world.migrator().run(admin_context, record.id).step == 'error'
    _assert_rolled_back(admin_context, conf, world, volume, record.id)
    again = world.cinder.migrate_volume(admin_context, volume.id,
                                        'node1@slow')
    assert world.migrator().run(admin_context, again.id).step == 'success'


@pytest.mark.parametrize('end', ['rollback', 'success'])
def test_volume_is_freed_with_the_migrations_last_step(
        world, admin_context, monkeypatch, end):
    """The last step and the volume's migration_status change in one
    transaction: a service dying in between leaves the volume busy."""
    volume = _in_use_volume(world, admin_context)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    if end == 'rollback':
        world.copy.fail = OSError(errno.EIO, 'Input/output error')
    last_step = {'rollback': 'error', 'success': 'success'}[end]
    check = migration_steps.check

    def dying(step, next_step):
        if next_step == last_step:
            raise Crash('final step')
        return check(step, next_step)

    with monkeypatch.context() as patch:
        patch.setattr(migration_steps, 'check', dying)
        with pytest.raises(Crash):
            world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    assert db_api.volume_get(admin_context, volume.id).migration_status \
        in ('migrating', 'completing')
    with pytest.raises(exception.InvalidVolume) as refused:
        world.cinder.migrate_volume(admin_context, volume.id, 'node1@slow')
    assert 'already being migrated' in refused.value.message

    assert world.migrator().run(admin_context, record.id).step == last_step
    assert db_api.volume_get(admin_context, volume.id).migration_status \
        == last_step


def test_rollback_never_cancels_a_newer_nova_migration(world, admin_context,
                                                       conf):
    """Nova's show gives the newest record of an attachment: a rollback
    that finds another migration's record there leaves it alone."""
    volume, attachment_id, record = _died_copying(world, admin_context)
    nova = world.compute.nova
    ours = dict(nova.records[attachment_id])
    db_api.migration_move(admin_context, record.id, 'copying',
                          'rolling_back', error='copy failed')
    # Meanwhile Nova went back to the source and another migration of
    # the attachment started (someone else's: this one never ended).
    nova.set_status(attachment_id, contract.CANCELLED)
    status, newer = nova._start(attachment_id)
    assert status == 200
    newer = newer['volume_migration']
    assert newer['created_at'] != ours['created_at']
    calls = len(nova.calls)

    assert world.migrator().run(admin_context, record.id).step == 'error'
    assert 'cancel' not in nova.names()[calls:]
    assert nova.records[attachment_id]['status'] == contract.STARTED
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


def test_rollback_after_a_lost_start_reply_owns_nova_s_record(
        world, admin_context, conf, monkeypatch, short_cancel_wait):
    """Start took effect but its answer was lost: the rollback takes the
    record it finds then as its own, cancels it, and remembers it."""
    volume = _in_use_volume(world, admin_context)
    [src_attachment] = volume.attachments
    real = world.compute.start

    def lost_reply(*args):
        real(*args)
        raise exception.NovaError(reason='connection reset')

    monkeypatch.setattr(world.compute, 'start', lost_reply)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    assert world.migrator().run(admin_context, record.id).step == 'error'
    nova = world.compute.nova
    assert nova.names().count('cancel') == 1
    assert nova.records[src_attachment.id]['status'] == contract.CANCELLED
    assert db_api.migration_get(admin_context, record.id).nova_created_at \
        == nova.records[src_attachment.id]['created_at']
    _assert_rolled_back(admin_context, conf, world, volume, record.id)


# Attachments of a migrating volume: only the migration changes them, but
# for Nova connecting the destination while it switches to it.

NOVA = context.RequestContext(user_id='admin', project_id='admin',
                              roles=['admin', 'member', 'reader'],
                              service_roles=['service'])
MEMBER = context.RequestContext(user_id='alice', project_id='demo',
                                roles=['member', 'reader'])


def _refused(call, *args):
    with pytest.raises(exception.VolumeMigrating) as refused:
        call(*args)
    assert refused.value.code == 409
    return refused.value.message


def _member_volume(world, admin_context):
    """An in-use volume of MEMBER's project."""
    volume = world.cinder.create(MEMBER, 1, volume_type='fast',
                                 multiattach=True)
    attachment = world.cinder.attachment_create(
        MEMBER, volume.id, SERVER, connector=CONNECTOR)
    world.cinder.attachment_complete(MEMBER, attachment.id)
    return db_api.volume_get(admin_context, volume.id)


def test_attachments_of_a_migrating_volume_are_refused(world,
                                                       admin_context):
    volume = _member_volume(world, admin_context)
    [src_attachment] = volume.attachments
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = Crash('copy')
    with pytest.raises(Crash):
        world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    record = db_api.migration_get(admin_context, record.id)
    cinder = world.cinder
    for ctxt in (MEMBER, admin_context, NOVA):
        for volume_id in (volume.id, record.dest_volume_id):
            message = _refused(cinder.attachment_create, ctxt, volume_id,
                               OTHER_SERVER)
            assert record.id in message
        for attachment_id in (src_attachment.id, record.dst_attachment_id):
            _refused(cinder.attachment_update, ctxt, attachment_id,
                     CONNECTOR)
            _refused(cinder.attachment_complete, ctxt, attachment_id)
            message = _refused(cinder.attachment_delete, ctxt,
                               attachment_id)
            assert record.id in message
    after = db_api.volume_get(admin_context, volume.id)
    assert [(a.id, a.attach_status) for a in after.attachments] == [
        (src_attachment.id, 'attached')]

    # Nova's complete connects the destination: allowed.
    assert world.migrator().run(admin_context, record.id).step == 'success'
    moved = db_api.volume_get(admin_context, volume.id)
    assert [a.id for a in moved.attachments] == [record.dst_attachment_id]
    # Over: attachments are anybody's again.
    other = cinder.attachment_create(MEMBER, volume.id, OTHER_SERVER)
    cinder.attachment_delete(MEMBER, other.id)


@pytest.mark.parametrize('ctxt, allowed', [
    (NOVA, True),
    (context.RequestContext(user_id='nova', project_id='service',
                            roles=['service']), True),
    (MEMBER, False),
])
def test_only_nova_connects_the_destination_while_it_switches(
        world, admin_context, monkeypatch, ctxt, allowed):
    volume = _member_volume(world, admin_context)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    cinder = world.cinder
    seen = []
    real = world.compute.complete

    def complete(context, attachment_id, new_attachment_id):
        migration_row = db_api.migration_get(admin_context, record.id)
        assert migration_row.step == 'completing'
        assert migration_row.nova_complete_requested
        # Never the source attachment, never a delete, never a new one.
        _refused(cinder.attachment_update, ctxt, attachment_id, CONNECTOR)
        _refused(cinder.attachment_delete, ctxt, new_attachment_id)
        _refused(cinder.attachment_create, ctxt,
                 migration_row.dest_volume_id, OTHER_SERVER)
        if allowed:
            seen.append(cinder.attachment_update(ctxt, new_attachment_id,
                                                 CONNECTOR))
            cinder.attachment_complete(ctxt, new_attachment_id)
        else:
            _refused(cinder.attachment_update, ctxt, new_attachment_id,
                     CONNECTOR)
            _refused(cinder.attachment_complete, ctxt, new_attachment_id)
        return real(context, attachment_id, new_attachment_id)

    monkeypatch.setattr(world.compute, 'complete', complete)
    assert world.migrator().run(admin_context, record.id).step == 'success'
    if allowed:
        assert seen[0].id == db_api.migration_get(
            admin_context, record.id).dst_attachment_id
        assert seen[0].connection_info['attachment_id'] == seen[0].id


def test_nova_connects_the_destination_while_cinder_falls_back(
        world, admin_context):
    """Nova's complete answered 503 (its switch goes on): Cinder rolls
    back, finds Nova completing and goes back to completing. Nova may
    connect the destination in between, but not after a failed copy."""
    volume, attachment_id, record = _died_copying(world, admin_context)
    record = db_api.migration_get(admin_context, record.id)
    db_api.migration_move(admin_context, record.id, 'copying',
                          'rolling_back', error='copy failed')
    _refused(world.cinder.attachment_update, NOVA,
             record.dst_attachment_id, CONNECTOR)

    db_api.migration_move(admin_context, record.id, 'rolling_back',
                          'completing', nova_complete_requested=True)
    db_api.migration_move(admin_context, record.id, 'completing',
                          'rolling_back', error='Nova answered 503')
    world.cinder.attachment_update(NOVA, record.dst_attachment_id, CONNECTOR)
    world.cinder.attachment_complete(NOVA, record.dst_attachment_id)
    assert db_api.attachment_get(
        admin_context, record.dst_attachment_id).attach_status == 'attached'
