"""os-volume-migrations over HTTP, down to the database.

The compute service's three migration calls are played by FakeMigrationRPC
(the compute side of a migration is tested with the manager); everything
else runs through the real compute manager over fake:// RPC.
"""

import re
import uuid

import pytest

from nova_volmig import exception
from nova_volmig import policy
from nova_volmig.compute import api as compute_api
from nova_volmig.compute import rpcapi
from nova_volmig.compute import states
from nova_volmig.db import api as db_api
from tests.unit.nova_volmig import conftest
from volmig_common import context as common_context

V2105 = {'OpenStack-API-Version': 'compute 2.105'}
V289 = {'OpenStack-API-Version': 'compute 2.89'}
URL = '/v2.1/os-volume-migrations'
UNKNOWN = '8d3f2a9e-6a38-4ab6-9d6c-1f0a6b0d7a11'
ISO8601 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$')
FIELDS = {'attachment_id', 'new_attachment_id', 'server_id', 'volume_id',
          'mode', 'status', 'progress', 'error', 'created_at',
          'updated_at'}


class FakeMigrationRPC(rpcapi.ComputeAPI):
    """The compute RPC API, with the migration calls played in-process.

    They move the record as the compute service would: start answers once
    the record is ``started``; complete once it is ``finishing`` (unless
    ``switch`` says the switch is still under way, or failed); complete
    and cancel leave the background work to ``finish``.
    """

    def __init__(self, conf):
        super().__init__(conf)
        self.calls = []
        self.start_error = None
        self.switch = 'switched'

    def start_volume_migration(self, context, host, migration_id):
        self.calls.append(('start', migration_id))
        if isinstance(self.start_error, exception.ComputeUnavailable):
            raise self.start_error
        if self.start_error is not None:
            # A refusing compute service cleans up before it answers.
            db_api.migration_transition(
                context, migration_id, 'roll_back',
                {'error': self.start_error.message})
            finish_by_id(context, migration_id, 'rolled_back')
            raise self.start_error
        db_api.migration_transition(context, migration_id, 'started',
                                    {'mode': 'live'})

    def complete_volume_migration(self, context, host, migration_id):
        self.calls.append(('complete', migration_id))
        if self.switch == 'switched':
            db_api.migration_transition(context, migration_id, 'switched')
        elif self.switch == 'failed':
            db_api.migration_transition(context, migration_id, 'roll_back',
                                        {'error': 'the switch failed'})

    def cancel_volume_migration(self, context, host, migration_id):
        self.calls.append(('cancel', migration_id))


def finish(context, attachment_id, event):
    """The compute service's background work after complete or cancel."""
    migration = db_api.migration_get_by_attachment(context, attachment_id)
    if event == 'completed':
        bdm = db_api.bdm_get_by_attachment(context, attachment_id)
        db_api.bdm_update(context, bdm['uuid'], {
            'attachment_id': migration['new_attachment_id']})
    finish_by_id(context, migration['id'], event)


def finish_by_id(context, migration_id, event):
    migration = db_api.migration_transition(context, migration_id, event)
    db_api.instance_end_migration(context, migration)


@pytest.fixture
def fake_rpc(conf):
    return FakeMigrationRPC(conf)


@pytest.fixture
def api(monkeypatch, conf, compute_manager, volumes, fake_rpc):
    """Overrides conftest's: the same app, with FakeMigrationRPC."""
    return conftest.paste_api(monkeypatch, conf, compute_api.API(
        conf, compute_rpcapi=fake_rpc, volume_api=volumes))


def _attach(api, server_id, volumes):
    volume_id = volumes.add_volume()
    attachment = api.post_json(
        '/v2.1/servers/%s/os-volume_attachments' % server_id,
        {'volumeAttachment': {'volumeId': volume_id}},
        headers=V289).json['volumeAttachment']
    return volume_id, attachment['attachment_id']


@pytest.fixture
def attached(api, server, volumes):
    """(server id, volume id, attachment id) of an attached volume."""
    return (server['id'],) + _attach(api, server['id'], volumes)


def _error(response, status):
    assert response.status_int == status, response.body
    assert set(response.json['error']) == {'code', 'title', 'message'}
    return response.json['error']['message']


def _start(api, attachment_id, status=200, headers=V2105):
    return api.post_json(URL, {'volume_migration': {
        'attachment_id': attachment_id}}, headers=headers, status=status)


def _action(api, attachment_id, body, status=200, headers=V2105):
    return api.post_json('%s/%s/action' % (URL, attachment_id), body,
                         headers=headers, status=status)


def _complete(api, attachment_id, new_attachment_id, status=200):
    return _action(api, attachment_id, {'complete': {
        'new_attachment_id': new_attachment_id}}, status=status)


def _show(api, attachment_id):
    return api.get('%s/%s' % (URL, attachment_id),
                   headers=V2105).json['volume_migration']


def _task_state(api, server_id):
    return api.get('/v2.1/servers/' + server_id).json['server'][
        'OS-EXT-STS:task_state']


def test_version_document_says_2_105(api):
    assert api.get('/').json['versions'][0]['version'] == '2.105'
    assert api.get('/v2.1/').json['version']['version'] == '2.105'


@pytest.mark.parametrize('headers', [
    {}, {'OpenStack-API-Version': 'compute 2.104'},
    {'X-OpenStack-Nova-API-Version': '2.104'}])
def test_absent_below_2_105(api, attached, headers):
    attachment_id = attached[2]
    responses = [
        api.get(URL, headers=headers, expect_errors=True),
        api.get('%s/%s' % (URL, attachment_id), headers=headers,
                expect_errors=True),
        _start(api, attachment_id, status=404, headers=headers),
        # Even a bad body: the resource does not exist at all.
        api.post_json(URL, {'bogus': 1}, headers=headers, status=404),
        _action(api, attachment_id, {'cancel': None}, status=404,
                headers=headers)]
    for response in responses:
        assert _error(response, 404) == 'The resource could not be found.'
    assert db_api.migration_get_by_attachment(
        common_context.get_admin_context(), attachment_id) is None


def test_present_at_2_105_and_latest(api):
    for headers in (V2105, {'OpenStack-API-Version': 'compute latest'},
                    {'X-OpenStack-Nova-API-Version': '2.105'}):
        response = api.get(URL, headers=headers)
        assert response.json == {'volume_migrations': []}
        assert response.headers['OpenStack-API-Version'] == 'compute 2.105'


def test_start_show_list(api, attached, fake_rpc):
    server_id, volume_id, attachment_id = attached
    record = _start(api, attachment_id).json['volume_migration']
    assert set(record) == FIELDS
    assert record['attachment_id'] == attachment_id
    assert record['new_attachment_id'] is None
    assert record['server_id'] == server_id
    assert record['volume_id'] == volume_id
    assert (record['mode'], record['status'], record['progress'],
            record['error']) == ('live', 'started', 0, None)
    assert ISO8601.match(record['created_at'])
    assert ISO8601.match(record['updated_at'])
    assert _task_state(api, server_id) == states.MIGRATING_VOLUME
    migration = db_api.migration_get_by_attachment(
        common_context.get_admin_context(), attachment_id)
    assert fake_rpc.calls == [('start', migration['id'])]
    assert (migration['host'], migration['device_name']) == (
        'compute1', '/dev/vda')
    assert '"driver_volume_type": "file"' in migration[
        'source_connection_info']

    assert _show(api, attachment_id) == record
    for query in ('', '?server_id=' + server_id, '?volume_id=' + volume_id,
                  '?status=started',
                  '?server_id=%s&status=started' % server_id):
        assert api.get(URL + query, headers=V2105).json == {
            'volume_migrations': [record]}, query
    for query in ('?server_id=' + UNKNOWN, '?volume_id=' + UNKNOWN,
                  '?status=cancelled'):
        assert api.get(URL + query, headers=V2105).json == {
            'volume_migrations': []}, query


def test_start_retry_returns_the_same_record(api, attached, fake_rpc):
    attachment_id = attached[2]
    first = _start(api, attachment_id).json['volume_migration']
    again = _start(api, attachment_id).json['volume_migration']
    assert again == first
    assert len(fake_rpc.calls) == 1


def test_complete(api, attached, fake_rpc, admin_context):
    server_id, volume_id, attachment_id = attached
    new_attachment_id = str(uuid.uuid4())
    _start(api, attachment_id)
    record = _complete(api, attachment_id,
                       new_attachment_id).json['volume_migration']
    assert record['status'] == 'finishing'
    assert record['new_attachment_id'] == new_attachment_id
    migration_id = db_api.migration_get_by_attachment(
        admin_context, attachment_id)['id']
    assert fake_rpc.calls == [('start', migration_id),
                              ('complete', migration_id)]

    # A retry after a lost reply: the same answer; the source is free
    # already, so the compute service is not asked again.
    assert _complete(api, attachment_id, new_attachment_id).json[
        'volume_migration'] == record
    assert fake_rpc.calls[2:] == []
    response = _complete(api, attachment_id, str(uuid.uuid4()), status=409)
    assert _error(response, 409) == (
        'The migration of attachment %s already switches to attachment '
        '%s.' % (attachment_id, new_attachment_id))
    response = _action(api, attachment_id, {'cancel': None}, status=409)
    assert _error(response, 409) == (
        'Cannot cancel a volume migration that is finishing.')
    assert _task_state(api, server_id) == states.MIGRATING_VOLUME

    finish(admin_context, attachment_id, 'completed')
    record = _show(api, attachment_id)
    assert record['status'] == 'completed'
    assert _task_state(api, server_id) is None
    assert _complete(api, attachment_id, new_attachment_id).json[
        'volume_migration'] == record
    response = _action(api, attachment_id, {'cancel': None}, status=409)
    assert _error(response, 409) == (
        'Cannot cancel a volume migration that is completed.')
    assert len(fake_rpc.calls) == 2  # completed: nothing more to ask
    # The source attachment is no longer the server's.
    response = _start(api, attachment_id, status=404)
    assert _error(response, 404) == (
        'Volume attachment %s is not used by any server.' % attachment_id)


def test_cancel(api, attached, fake_rpc, admin_context):
    server_id, volume_id, attachment_id = attached
    _start(api, attachment_id)
    migration_id = db_api.migration_get_by_attachment(
        admin_context, attachment_id)['id']
    response = _action(api, attachment_id, {'cancel': None}, status=202)
    assert response.body == b''
    assert _show(api, attachment_id)['status'] == 'cancelling'
    # Repeated: sent again, in case the first was lost.
    _action(api, attachment_id, {'cancel': None}, status=202)
    assert fake_rpc.calls == [('start', migration_id),
                              ('cancel', migration_id),
                              ('cancel', migration_id)]
    response = _complete(api, attachment_id, str(uuid.uuid4()), status=409)
    assert _error(response, 409) == (
        'Cannot complete a volume migration that is cancelling.')

    finish(admin_context, attachment_id, 'cancelled')
    assert _show(api, attachment_id)['status'] == 'cancelled'
    assert _task_state(api, server_id) is None
    _action(api, attachment_id, {'cancel': None}, status=202)
    response = _complete(api, attachment_id, str(uuid.uuid4()), status=409)
    assert _error(response, 409) == (
        'Cannot complete a volume migration that is cancelled.')
    assert len(fake_rpc.calls) == 3  # cancelled: nothing more to ask

    # The same attachment may be migrated again; the newest record counts.
    again = _start(api, attachment_id).json['volume_migration']
    assert again['status'] == 'started'
    assert _show(api, attachment_id) == again
    statuses = [m['status'] for m in api.get(
        URL, headers=V2105).json['volume_migrations']]
    assert statuses == ['cancelled', 'started']


@pytest.mark.parametrize('switch,status,message', [
    (None, 503, 'The switch of attachment %s to its destination is still '
                'under way; ask again.'),
    ('failed', 409, 'The switch of attachment %s to its destination failed '
                    '(reconciling): the switch failed'),
])
def test_complete_before_the_source_is_free(api, attached, fake_rpc, switch,
                                            status, message):
    """Complete answers 200 only once the source is free."""
    attachment_id = attached[2]
    _start(api, attachment_id)
    fake_rpc.switch = switch
    response = _complete(api, attachment_id, str(uuid.uuid4()),
                         status=status)
    assert _error(response, status) == message % attachment_id


def test_instance_busy_while_migrating(api, server, attached, volumes):
    server_id, volume_id, attachment_id = attached
    other_volume_id, other_attachment_id = _attach(api, server_id, volumes)
    _start(api, attachment_id)
    busy = ('Instance %s is busy with the migration of volume attachment '
            '%s (started).' % (server_id, attachment_id))
    server_url = '/v2.1/servers/' + server_id
    responses = [
        api.post_json(server_url + '/action', body, status=409)
        for body in ({'os-stop': None}, {'os-start': None},
                     {'reboot': {'type': 'SOFT'}},
                     {'reboot': {'type': 'HARD'}})]
    responses += [
        api.delete(server_url, status=409),
        api.delete('%s/os-volume_attachments/%s' % (server_url, volume_id),
                   status=409),
        api.delete('%s/os-volume_attachments/%s' % (server_url,
                                                    other_volume_id),
                   status=409),
        api.post_json(server_url + '/os-volume_attachments',
                      {'volumeAttachment': {
                          'volumeId': volumes.add_volume()}}, status=409),
        _start(api, other_attachment_id, status=409)]
    for response in responses:
        assert _error(response, 409) == busy
    assert _task_state(api, server_id) == states.MIGRATING_VOLUME


def test_start_refused_by_compute(api, attached, fake_rpc):
    server_id, volume_id, attachment_id = attached
    fake_rpc.start_error = exception.VolumeMigrationNotPossible(
        attachment_id=attachment_id, reason='the driver cannot')
    response = _start(api, attachment_id, status=409)
    assert _error(response, 409) == (
        'Writes to attachment %s cannot be suspended: the driver cannot'
        % attachment_id)
    record = _show(api, attachment_id)
    assert record['status'] == 'error'
    assert record['error'] == fake_rpc.start_error.message
    assert _task_state(api, server_id) is None


def test_start_compute_unreachable(api, attached, fake_rpc, admin_context):
    server_id, volume_id, attachment_id = attached
    fake_rpc.start_error = exception.ComputeUnavailable(reason='timed out')
    response = _start(api, attachment_id, status=503)
    # Our own 503s say why.
    assert _error(response, 503) == (
        'The compute service did not answer: timed out')
    # The compute service may have suspended writes or not: it finds out
    # and goes back to the source; the instance stays claimed until then.
    record = _show(api, attachment_id)
    assert (record['status'], record['error']) == (
        'reconciling', 'The compute service did not answer: timed out')
    assert _task_state(api, server_id) == states.MIGRATING_VOLUME
    response = _start(api, attachment_id, status=409)
    assert _error(response, 409) == (
        'Cannot start a volume migration that is reconciling.')
    finish(admin_context, attachment_id, 'rolled_back')
    assert _show(api, attachment_id)['status'] == 'error'
    assert _task_state(api, server_id) is None
    fake_rpc.start_error = None
    assert _start(api, attachment_id).json['volume_migration'][
        'status'] == 'started'
    api.post_json('/v2.1/servers/%s/action' % server_id, {'os-stop': None},
                  status=409)


@pytest.mark.parametrize('body,message', [
    ({}, 'Invalid input for field/attribute volume_migration. '
         "Value: 'None'. Mandatory field missing."),
    ({'volume_migration': {}},
     "Invalid input for field/attribute attachment_id. Value: 'None'. "
     'Mandatory field missing.'),
    ({'volume_migration': None}, 'volume_migration must be an object, '
                                 'not null.'),
    ({'volume_migration': 'x'}, 'volume_migration must be an object, '
                                'not "x".'),
    ({'volume_migration': {'attachment_id': 'nope'}},
     'attachment_id must be a UUID, not "nope".'),
    ({'volume_migration': {'attachment_id': None}},
     'attachment_id must be a UUID, not null.'),
    ({'volume_migration': {'attachment_id': 5}},
     "Invalid input for field/attribute attachment_id. Value: '5'. Wrong "
     "type. Expected '<class 'str'>', got '<class 'int'>'"),
    ({'volume_migration': {'attachment_id': UNKNOWN, 'host': 'x'}},
     'Unknown attribute for argument body.volume_migration: host'),
    ({'volume_migration': {'attachment_id': UNKNOWN}, 'force': True},
     'Unknown attribute for argument body: force'),
    ([], 'The request body must be a JSON object.'),
])
def test_start_bad_bodies(api, body, message):
    response = api.post_json(URL, body, headers=V2105, status=400)
    assert _error(response, 400) == message


@pytest.mark.parametrize('body,message', [
    ({}, 'The action body must hold exactly one action: cancel or '
         'complete.'),
    ({'cancel': None, 'complete': {'new_attachment_id': UNKNOWN}},
     'The action body must hold exactly one action: cancel or complete.'),
    ({'os-stop': None}, 'The action body must hold exactly one action: '
                        'cancel or complete.'),
    ({'cancel': {}}, 'cancel takes no argument: {"cancel": null}.'),
    ({'complete': None}, 'complete takes exactly '
                         '{"new_attachment_id": UUID}.'),
    ({'complete': {}}, 'complete takes exactly '
                       '{"new_attachment_id": UUID}.'),
    ({'complete': {'new_attachment_id': UNKNOWN, 'force': True}},
     'complete takes exactly {"new_attachment_id": UUID}.'),
    ({'complete': {'new_attachment_id': 'nope'}},
     'new_attachment_id must be a UUID, not "nope".'),
    ({'complete': {'new_attachment_id': 7}},
     'new_attachment_id must be a UUID, not 7.'),
    ([], 'The request body must be a JSON object.'),
])
def test_action_bad_bodies(api, attached, body, message):
    attachment_id = attached[2]
    _start(api, attachment_id)
    response = _action(api, attachment_id, body, status=400)
    assert _error(response, 400) == message
    assert _show(api, attachment_id)['status'] == 'started'


def test_bad_bodies_that_are_not_json(api, attached):
    for url in (URL, '%s/%s/action' % (URL, attached[2])):
        response = api.post(url, '{x', content_type='application/json',
                            headers=V2105, status=400)
        assert _error(response, 400) == 'Request is not in valid JSON format.'


def test_complete_onto_itself(api, attached):
    attachment_id = attached[2]
    _start(api, attachment_id)
    response = _complete(api, attachment_id, attachment_id, status=400)
    assert _error(response, 400) == (
        'Invalid volume: new_attachment_id %s is the attachment being '
        'migrated' % attachment_id)


@pytest.mark.parametrize('query,message', [
    ('status=moving', 'status must be one of starting, started, completing, '
                      'finishing, completed, cancelling, cancelled, '
                      'reconciling, error.'),
    ('server_id=x', 'server_id must be a UUID, not "x".'),
    ('volume_id=x', 'volume_id must be a UUID, not "x".'),
    ('host=compute1', 'Unknown argument: "host"'),
])
def test_list_bad_filters(api, query, message):
    response = api.get(URL + '?' + query, headers=V2105, status=400)
    assert _error(response, 400) == message


def test_unknown_attachment(api, server):
    response = _start(api, UNKNOWN, status=404)
    assert _error(response, 404) == (
        'Volume attachment %s is not used by any server.' % UNKNOWN)
    missing = 'No volume migration of attachment %s.' % UNKNOWN
    for response in (
            api.get('%s/%s' % (URL, UNKNOWN), headers=V2105, status=404),
            _action(api, UNKNOWN, {'cancel': None}, status=404),
            _complete(api, UNKNOWN, str(uuid.uuid4()), status=404)):
        assert _error(response, 404) == missing


def test_attached_but_never_migrated(api, attached):
    attachment_id = attached[2]
    response = api.get('%s/%s' % (URL, attachment_id), headers=V2105,
                       status=404)
    assert _error(response, 404) == (
        'No volume migration of attachment %s.' % attachment_id)


@pytest.mark.parametrize('roles,allowed', [
    (['admin'], True), (['service'], True), (['member', 'reader'], False)])
def test_policy_admin_or_service(conf, roles, allowed):
    context = common_context.RequestContext(roles=roles, project_id='p1')
    for action in ('start', 'cancel', 'complete', 'show', 'list'):
        assert policy.check(
            conf, context, 'os_compute_api:os-volume-migrations:' + action,
            {'project_id': 'p1'}) is allowed

