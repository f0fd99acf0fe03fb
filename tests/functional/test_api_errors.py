"""Bad input over real HTTP: right status, one JSON error shape, no 500."""

import uuid

import pytest

UNKNOWN = str(uuid.uuid4())


def _assert_error(response, status):
    assert response.status_code == status, response.text
    assert response.headers['Content-Type'].startswith('application/json')
    error = response.json()['error']
    assert error['code'] == status
    assert error['message']
    assert 'Traceback' not in response.text
    return error['message']


def _raw_post(client, path, data):
    return client.request('POST', path, data=data,
                          headers={'Content-Type': 'application/json'})


@pytest.mark.parametrize('api,path', [
    ('volume', '/volumes'),
    ('compute', '/servers'),
])
def test_malformed_json(deployment, api, path):
    client = getattr(deployment, api)
    _assert_error(_raw_post(client, path, '{"not json'), 400)
    _assert_error(_raw_post(client, path, '[1, 2]'), 400)


def test_volume_unknown_field(deployment):
    message = _assert_error(deployment.volume.post(
        '/volumes', {'volume': {'size': 1, 'colour': 'blue'}}), 400)
    assert 'colour' in message


def test_volume_bad_size(deployment):
    for size in (0, -1, 'big'):
        _assert_error(deployment.volume.post(
            '/volumes', {'volume': {'size': size}}), 400)


def test_volume_ids(deployment):
    _assert_error(deployment.volume.get('/volumes/not-a-uuid'), 404)
    _assert_error(deployment.volume.get('/volumes/%s' % UNKNOWN), 404)
    _assert_error(deployment.volume.delete('/volumes/%s' % UNKNOWN), 404)
    _assert_error(deployment.volume.post('/attachments', {'attachment': {
        'volume_uuid': 'nope', 'instance_uuid': UNKNOWN}}), 404)


def test_volume_version_out_of_range(deployment):
    _assert_error(deployment.volume.get('/volumes', version='3.999'), 406)


def test_server_unknown_field(deployment):
    message = _assert_error(deployment.compute.post('/servers', {'server': {
        'name': 'x', 'imageRef': UNKNOWN, 'flavorRef': 'm1.tiny',
        'colour': 'blue'}}), 400)
    assert 'colour' in message


def test_server_ids(deployment):
    _assert_error(deployment.compute.get('/servers/%s' % UNKNOWN), 404)
    _assert_error(deployment.compute.get('/servers/not-a-uuid'), 404)
    _assert_error(deployment.compute.post(
        '/servers/%s/action' % UNKNOWN, {'os-stop': None}), 404)
    _assert_error(deployment.compute.post('/servers', {'server': {
        'name': 'x', 'imageRef': UNKNOWN, 'flavorRef': 'm1.tiny'}}), 400)


def test_attach_bad_volume_id(deployment):
    server = deployment.boot_server('errors')
    path = '/servers/%s/os-volume_attachments' % server['id']
    _assert_error(deployment.compute.post(
        path, {'volumeAttachment': {'volumeId': 'not-a-uuid'}}), 400)
    _assert_error(deployment.compute.post(
        path, {'volumeAttachment': {'volumeId': UNKNOWN}}), 404)
    _assert_error(deployment.compute.post(
        '/servers/%s/action' % server['id'], {'os-start': None}), 409)
    assert deployment.compute.delete(
        '/servers/%s' % server['id']).status_code == 204


def test_unknown_resource(deployment):
    _assert_error(deployment.compute.get('/no-such-thing'), 404)
    _assert_error(deployment.volume.get('/no-such-thing'), 404)


def test_compute_version_out_of_range(deployment):
    _assert_error(deployment.compute.get('/servers', version='2.999'), 406)
