"""A volume service that dies at any point of a migration finishes it or
undoes it when it runs again.

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
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import api as volume_api
from cinder_volmig.volume import migration
from cinder_volmig.volume import rpcapi
from tests.unit.cinder_volmig import fakes

SERVER = '6d3a1b2c-8f4e-4a5b-9c6d-7e8f9a0b1c2d'
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
            headers={'OpenStack-API-Version': 'compute 2.105'})
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
    volume = _in_use_volume(world, admin_context)
    [src_attachment] = volume.attachments
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    world.copy.fail = Crash('copy')
    with pytest.raises(Crash):
        world.migrator().run(admin_context, record.id)
    world.copy.fail = None
    world.compute.nova.records[src_attachment.id]['status'] = 'error'

    assert world.migrator().run(admin_context, record.id).step == 'error'
    after = db_api.volume_get(admin_context, volume.id)
    assert (after.status, after.migration_status, after.host,
            after.name_id) == ('in-use', 'error', volume.host, None)
    assert [a.id for a in after.attachments] == [src_attachment.id]
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
    assert world.compute.nova.names()[-1] == 'cancel'
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
