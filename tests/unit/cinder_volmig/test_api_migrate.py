"""os-migrate_volume through the real API and volume service.

Nova and the copy engine are fakes (tests/unit/cinder_volmig/fakes.py);
the file backends, the database and RPC are real.
"""

import errno
import os
import threading
import time

import pytest

from cinder_volmig.db import api as db_api
from cinder_volmig.volume import api as volume_api
from tests.unit.cinder_volmig import helpers
from tests.unit.cinder_volmig.helpers import assert_error
from tests.unit.cinder_volmig.helpers import url

SERVER = '6d3a1b2c-8f4e-4a5b-9c6d-7e8f9a0b1c2d'
OTHER_SERVER = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b'
MISSING = '0b8c6a0e-8f5f-4e0c-9a8e-7d6f3c1b2a90'
CONNECTOR = {'host': 'compute1', 'mountpoint': '/dev/vdb'}
V_ATTACH = helpers.headers('3.44')
DATA = b'acknowledged record\n' * 1000


def _migrate(api, volume_id, spec, version=None, **kwargs):
    return api.post_json(url('/volumes/%s/action' % volume_id),
                         {'os-migrate_volume': spec},
                         headers=helpers.headers(version), **kwargs)


def _show(api, volume_id, version='3.72'):
    return api.get(url('/volumes/%s' % volume_id),
                   headers=helpers.headers(version)).json['volume']


def _wait_for_migration(api, volume_id, status, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        volume = _show(api, volume_id)
        if volume['migration_status'] == status:
            return volume
        assert time.monotonic() < deadline, (
            'migration of %s is %s, not %s'
            % (volume_id, volume['migration_status'], status))
        time.sleep(0.02)


def _path(conf, volume):
    backend = volume['os-vol-host-attr:host'].split('@')[1].split('#')[0]
    return os.path.join(conf.state_path, 'volumes', backend,
                        'volume-%s' % volume['os-vol-mig-status-attr:name_id'])


def _write(conf, volume, data=DATA, offset=4096):
    with open(_path(conf, volume), 'r+b') as f:
        f.seek(offset)
        f.write(data)


def _read(path, offset=4096):
    with open(path, 'rb') as f:
        f.seek(offset)
        return f.read(len(DATA))


def _attach(api, volume_id, server=SERVER):
    attachment = api.post_json(url('/attachments'), {'attachment': {
        'volume_uuid': volume_id, 'instance_uuid': server,
        'connector': CONNECTOR}}, headers=V_ATTACH).json['attachment']
    api.post_json(url('/attachments/%s/action' % attachment['id']),
                  {'os-complete': None}, headers=V_ATTACH)
    return attachment['id']


@pytest.fixture
def nova(fake_nova, conf, admin_context):
    """Connects the destination attachment inside complete, as Nova."""
    cinder = volume_api.API(conf)

    def connect(record):
        cinder.attachment_update(admin_context, record['new_attachment_id'],
                                 CONNECTOR)
        cinder.attachment_complete(admin_context,
                                   record['new_attachment_id'])

    fake_nova.on_complete = connect
    return fake_nova


def _volume_on(api, backend, **fields):
    return helpers.create_volume(api, volume_type=backend, **fields)


def _only_visible_volumes(api):
    return [v['id'] for v in api.get(url('/volumes')).json['volumes']]


# Detached volumes: no Nova.

def test_cinderclient_body_moves_an_available_volume(api, conf, fake_copy):
    volume = _volume_on(api, 'fast')
    _write(conf, volume)
    source_path = _path(conf, volume)
    # Exactly what `cinder migrate VOL node1@slow` sends.
    response = _migrate(api, volume['id'], {
        'host': 'node1@slow', 'force_host_copy': False,
        'lock_volume': False}, version='3.71')
    assert response.status_int == 202
    assert response.body == b''
    moved = _wait_for_migration(api, volume['id'], 'success')
    assert moved['id'] == volume['id']
    assert moved['status'] == 'available'
    assert moved['os-vol-host-attr:host'] == 'node1@slow#slow'
    assert moved['os-vol-mig-status-attr:migstat'] == 'success'
    assert moved['os-vol-mig-status-attr:name_id'] != volume['id']
    assert moved['migration_progress'] == 100
    assert not os.path.exists(source_path)
    new_path = _path(conf, moved)
    assert new_path.startswith(os.path.join(conf.state_path, 'volumes',
                                            'slow'))
    assert _read(new_path) == DATA
    assert os.stat(new_path).st_size == 1024 ** 3
    assert _only_visible_volumes(api) == [volume['id']]
    [(src, dst, limit)] = fake_copy.calls
    assert (src, dst, limit) == (source_path, new_path, None)


def test_migrated_volume_can_be_migrated_back_and_deleted(api, conf,
                                                          fake_copy):
    volume = _volume_on(api, 'fast')
    _write(conf, volume)
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    _wait_for_migration(api, volume['id'], 'success')
    _migrate(api, volume['id'], {'host': 'node1@fast#fast'})
    back = _wait_for_migration(api, volume['id'], 'success')
    assert back['os-vol-host-attr:host'] == 'node1@fast#fast'
    assert _read(_path(conf, back)) == DATA
    assert sorted(os.listdir(os.path.join(conf.state_path, 'volumes',
                                          'slow'))) == []
    api.delete(url('/volumes/%s' % volume['id']))
    helpers.wait_until_deleted(api, volume['id'])
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'fast')) == []


@pytest.mark.parametrize('spec', [
    # openstack volume migrate --host (openstacksdk omits false flags)
    {'host': 'node1@slow'},
    {'host': 'node1@slow#slow', 'force_host_copy': True,
     'lock_volume': True},
    # cinder migrate --force-host-copy True --lock-volume False
    {'host': 'node1@slow', 'force_host_copy': 'True',
     'lock_volume': 'False'},
    {'host': 'node1@slow', 'force_host_copy': 'false',
     'lock_volume': '1'},
])
def test_accepts_what_the_clients_send(api, fake_copy, spec):
    volume = _volume_on(api, 'fast')
    assert _migrate(api, volume['id'], spec).status_int == 202
    assert _wait_for_migration(api, volume['id'], 'success')[
        'status'] == 'available'


def test_cluster_replaces_host_from_3_16(api, fake_copy):
    volume = _volume_on(api, 'fast')
    spec = {'cluster': 'node1@slow', 'force_host_copy': False,
            'lock_volume': False}
    assert_error(_migrate(api, volume['id'], spec, version='3.15',
                          expect_errors=True), 400, '3.16')
    assert _migrate(api, volume['id'], spec,
                    version='3.16').status_int == 202
    moved = _wait_for_migration(api, volume['id'], 'success')
    assert moved['os-vol-host-attr:host'] == 'node1@slow#slow'


def test_lock_volume_keeps_it_in_maintenance_while_it_moves(api, fake_copy):
    fake_copy.gate = threading.Event()
    volume = _volume_on(api, 'fast')
    _migrate(api, volume['id'], {'host': 'node1@slow', 'lock_volume': True})
    moving = _wait_for_migration(api, volume['id'], 'migrating')
    assert moving['status'] == 'maintenance'
    fake_copy.gate.set()
    assert _wait_for_migration(api, volume['id'], 'success')[
        'status'] == 'available'


def test_progress_rises_during_the_copy(api, fake_copy):
    fake_copy.delay = 0.002
    volume = _volume_on(api, 'fast')
    assert _show(api, volume['id'])['migration_progress'] is None
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        shown = _show(api, volume['id'])
        seen.append(shown['migration_progress'])
        if shown['migration_status'] == 'success':
            break
        time.sleep(0.05)
    percents = [p for p in seen if p is not None]
    assert percents == sorted(percents)
    assert len({p for p in percents if 0 < p < 100}) >= 2, percents
    assert percents[-1] == 100


def test_progress_is_a_3_72_field(api):
    volume = _volume_on(api, 'fast')
    assert 'migration_progress' not in _show(api, volume['id'], '3.71')
    assert 'migration_progress' in _show(api, volume['id'], '3.72')


def test_version_document_says_3_72(api):
    assert api.get('/v3/').json['version']['version'] == '3.72'


def test_bandwidth_limit_reaches_the_copy(api, conf, fake_copy):
    conf.set_override('migration_bandwidth_limit', 1000)
    conf.set_override('migration_bandwidth_limit', 5000, group='slow')
    first = _volume_on(api, 'fast')
    second = _volume_on(api, 'slow')
    _migrate(api, first['id'], {'host': 'node1@slow'})
    _migrate(api, second['id'], {'host': 'node1@fast'})
    _wait_for_migration(api, first['id'], 'success')
    _wait_for_migration(api, second['id'], 'success')
    assert sorted(limit for _, _, limit in fake_copy.calls) == [1000, 5000]


def test_copy_failure_of_a_detached_volume_leaves_it_unchanged(
        api, conf, fake_copy):
    fake_copy.fail = OSError(errno.ENOSPC, 'No space left on device')
    volume = _volume_on(api, 'fast')
    _write(conf, volume)
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    failed = _wait_for_migration(api, volume['id'], 'error')
    assert failed['status'] == 'available'
    assert failed['os-vol-host-attr:host'] == 'node1@fast#fast'
    assert failed['os-vol-mig-status-attr:name_id'] == volume['id']
    assert _read(_path(conf, failed)) == DATA
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) == []
    assert _only_visible_volumes(api) == [volume['id']]
    # An error is not a lock: a second attempt goes through.
    fake_copy.fail = None
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    assert _read(_path(conf, _wait_for_migration(
        api, volume['id'], 'success'))) == DATA


# Attached volumes: Nova suspends, Cinder copies, Nova switches.

def test_in_use_volume_moves_and_keeps_its_id(api, conf, nova, fake_copy,
                                              admin_context):
    volume = _volume_on(api, 'fast')
    src_attachment = _attach(api, volume['id'])
    volume = _show(api, volume['id'])
    _write(conf, volume)
    source_path = _path(conf, volume)
    assert _migrate(api, volume['id'], {'host': 'node1@slow'}).status_int \
        == 202
    moved = _wait_for_migration(api, volume['id'], 'success')
    assert moved['status'] == 'in-use'
    assert moved['os-vol-host-attr:host'] == 'node1@slow#slow'
    [attachment] = moved['attachments']
    assert attachment['server_id'] == SERVER
    assert attachment['volume_id'] == volume['id']
    dst_attachment = attachment['attachment_id']
    assert dst_attachment != src_attachment
    assert nova.names() == ['start', 'show', 'show', 'complete']
    assert nova.calls[-1] == ('complete', src_attachment, dst_attachment)
    assert not os.path.exists(source_path)
    assert _read(_path(conf, moved)) == DATA
    # Nova connected the destination attachment; it now names the volume.
    detail = api.get(url('/attachments/%s' % dst_attachment),
                     headers=V_ATTACH).json['attachment']
    assert detail['volume_id'] == volume['id']
    assert detail['status'] == 'attached'
    assert detail['connection_info']['data']['device_path'] == _path(
        conf, moved)
    assert_error(api.get(url('/attachments/%s' % src_attachment),
                         headers=V_ATTACH, expect_errors=True), 404,
                 'could not be found')
    assert _only_visible_volumes(api) == [volume['id']]
    assert len(db_api.volume_get_all(admin_context,
                                     include_targets=True)) == 1
    # Detaching after the move reaches the new backend.
    api.delete(url('/attachments/%s' % dst_attachment), headers=V_ATTACH)
    assert _show(api, volume['id'])['status'] == 'available'


def test_nova_refusing_start_leaves_the_volume_unchanged(api, conf, nova,
                                                         fake_copy):
    nova.refuse_start = 'the hypervisor cannot migrate volumes live'
    volume = _volume_on(api, 'fast')
    src_attachment = _attach(api, volume['id'])
    before = _show(api, volume['id'])
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    after = _wait_for_migration(api, volume['id'], 'error')
    for field in ('status', 'os-vol-host-attr:host',
                  'os-vol-mig-status-attr:name_id', 'attachments'):
        assert after[field] == before[field]
    assert [a['attachment_id'] for a in after['attachments']] == [
        src_attachment]
    assert nova.names() == ['start']
    assert fake_copy.calls == []
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) == []
    assert _only_visible_volumes(api) == [volume['id']]


def test_copy_failure_cancels_in_nova(api, conf, nova, fake_copy):
    fake_copy.fail = OSError(errno.EIO, 'Input/output error')
    volume = _volume_on(api, 'fast')
    _attach(api, volume['id'])
    before = _show(api, volume['id'])
    _write(conf, before)
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    after = _wait_for_migration(api, volume['id'], 'error')
    # Cancelled, then asked until Nova said it was back on the source.
    assert nova.names()[-2:] == ['cancel', 'show']
    assert 'complete' not in nova.names()
    assert after['status'] == 'in-use'
    assert after['attachments'] == before['attachments']
    assert after['os-vol-host-attr:host'] == 'node1@fast#fast'
    assert _read(_path(conf, after)) == DATA
    assert os.listdir(os.path.join(conf.state_path, 'volumes', 'slow')) == []
    # The next try succeeds.
    fake_copy.fail = None
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    assert _wait_for_migration(api, volume['id'], 'success')[
        'status'] == 'in-use'


def test_attachments_of_a_migrating_volume_answer_409(api, nova, fake_copy,
                                                     admin_context):
    """No second writer while the data moves: creating, updating,
    completing or deleting an attachment of the volume or of its hidden
    destination is a 409 naming the migration, until it is over."""
    fake_copy.gate = threading.Event()
    volume = _volume_on(api, 'fast', multiattach=True)
    src_attachment = _attach(api, volume['id'])
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    deadline = time.monotonic() + 10
    while not fake_copy.calls:
        assert time.monotonic() < deadline, 'the copy never started'
        time.sleep(0.02)
    [record] = db_api.volume_get(admin_context, volume['id']).migrations
    fragment = 'migration %s' % record.id
    for volume_id in (volume['id'], record.dest_volume_id):
        assert_error(api.post_json(url('/attachments'), {'attachment': {
            'volume_uuid': volume_id, 'instance_uuid': OTHER_SERVER}},
            headers=V_ATTACH, expect_errors=True), 409, fragment)
    for attachment_id in (src_attachment, record.dst_attachment_id):
        path = url('/attachments/%s' % attachment_id)
        assert_error(api.put_json(path, {'attachment': {
            'connector': CONNECTOR}}, headers=V_ATTACH,
            expect_errors=True), 409, fragment)
        assert_error(api.post_json(path + '/action', {'os-complete': None},
                                   headers=V_ATTACH, expect_errors=True),
                     409, fragment)
        assert_error(api.delete(path, headers=V_ATTACH, expect_errors=True),
                     409, fragment)
    fake_copy.gate.set()
    moved = _wait_for_migration(api, volume['id'], 'success')
    # Nova connected the destination during its complete.
    assert [a['attachment_id'] for a in moved['attachments']] == [
        record.dst_attachment_id]
    _attach(api, volume['id'], server=OTHER_SERVER)


# Refusals: each a 400 with a JSON error, the volume untouched.

def test_refuses_a_second_migration_while_one_runs(api, fake_copy):
    fake_copy.gate = threading.Event()
    volume = _volume_on(api, 'fast')
    _migrate(api, volume['id'], {'host': 'node1@slow'})
    assert_error(_migrate(api, volume['id'], {'host': 'node1@slow'},
                          expect_errors=True), 400, 'already being migrated')
    fake_copy.gate.set()
    _wait_for_migration(api, volume['id'], 'success')


def test_refuses_a_volume_attached_twice(api):
    volume = _volume_on(api, 'fast', multiattach=True)
    _attach(api, volume['id'])
    _attach(api, volume['id'], server=OTHER_SERVER)
    assert_error(_migrate(api, volume['id'], {'host': 'node1@slow'},
                          expect_errors=True), 400,
                 'attached more than once')
    assert _show(api, volume['id'])['migration_status'] is None


def test_refuses_a_volume_in_the_wrong_status(api):
    volume = _volume_on(api, 'fast')
    api.post_json(url('/attachments'), {'attachment': {
        'volume_uuid': volume['id'], 'instance_uuid': SERVER}},
        headers=V_ATTACH)
    assert_error(_migrate(api, volume['id'], {'host': 'node1@slow'},
                          expect_errors=True), 400, 'is reserved')


def test_refuses_a_destination_whose_service_is_down(api, conf,
                                                     admin_context):
    import datetime

    from oslo_utils import timeutils
    import sqlalchemy as sa

    from cinder_volmig.db import models
    volume = _volume_on(api, 'fast')
    long_ago = timeutils.utcnow() - datetime.timedelta(
        seconds=conf.service_down_time + 1)
    with db_api.CONTEXT.writer.using(admin_context) as session:
        session.execute(sa.update(models.Service).where(
            models.Service.host == 'node1@slow').values(updated_at=long_ago))
    assert_error(_migrate(api, volume['id'], {'host': 'node1@slow'},
                          expect_errors=True), 400, 'is down')


@pytest.mark.parametrize('spec, fragment', [
    ({'host': 'node1@fast'}, 'already on node1@fast'),
    ({'host': 'node1@fast#fast'}, 'already on node1@fast'),
    ({'host': 'node9@slow'}, 'node9@slow is unknown'),
    ({'host': 'node1@slow#gold'}, 'only pool slow'),
    ({'host': ''}, 'is unknown'),
    ({}, 'Exactly one of host and cluster'),
    ({'host': 'node1@slow', 'cluster': 'node1@slow'},
     'Exactly one of host and cluster'),
    ({'host': 'node1@slow', 'force_host_copy': 'maybe'},
     'force_host_copy must be a boolean'),
    ({'host': 'node1@slow', 'lock_volume': 7}, 'lock_volume must be'),
    ({'host': 'node1@slow', 'colour': 'red'}, 'colour'),
    ({'host': 3}, 'host'),
])
def test_refuses_bad_input(api, spec, fragment):
    volume = _volume_on(api, 'fast')
    assert_error(_migrate(api, volume['id'], spec, version='3.16',
                          expect_errors=True), 400, fragment)
    shown = _show(api, volume['id'])
    assert (shown['status'], shown['migration_status']) == ('available',
                                                            None)


@pytest.mark.parametrize('body, fragment', [
    ('{"os-migrate_volume": ', 'not in valid JSON'),
    ('{}', 'only volume action is os-migrate_volume'),
    ('{"os-extend": {"new_size": 2}}', 'os-extend'),
    ('{"os-migrate_volume": "node1@slow"}', 'Expected a JSON object'),
])
def test_refuses_malformed_actions(api, body, fragment):
    volume = _volume_on(api, 'fast')
    response = api.post(url('/volumes/%s/action' % volume['id']), body,
                        content_type='application/json', expect_errors=True)
    assert_error(response, 400, fragment)


@pytest.mark.parametrize('volume_id', [MISSING, 'not-a-uuid'])
def test_unknown_volume_is_404(api, volume_id):
    assert_error(_migrate(api, volume_id, {'host': 'node1@slow'},
                          expect_errors=True), 404, 'could not be found')


def test_migrate_policy_is_admin_only(conf):
    from cinder_volmig import policy
    from volmig_common import context
    from volmig_common import exception
    enforcer = policy.get_enforcer(conf)
    rule = 'volume_extension:volume_admin_actions:migrate_volume'
    member = context.RequestContext(user_id='u', project_id='p',
                                    roles=['member', 'reader'])
    with pytest.raises(exception.Forbidden):
        policy.authorize(enforcer, member, rule)
    policy.authorize(enforcer, context.get_admin_context(), rule)
