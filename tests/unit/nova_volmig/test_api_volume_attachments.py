"""Volume attachments over HTTP, down to the (fake) hypervisor and Cinder."""

from nova_volmig.db import api as db_api
from tests.unit.nova_volmig.conftest import wait_for

V289 = {'OpenStack-API-Version': 'compute 2.89'}


def _url(server_id, volume_id=None):
    url = '/v2.1/servers/%s/os-volume_attachments' % server_id
    return url + '/' + volume_id if volume_id else url


def _attach(api, server_id, volume_id, status=200, headers=None, **extra):
    return api.post_json(_url(server_id),
                         {'volumeAttachment': dict(volumeId=volume_id,
                                                   **extra)},
                         headers=headers or {}, status=status)


def _error(response, status):
    assert response.status_int == status
    return response.json['error']['message']


def test_attach_list_show_detach(api, server, volumes, driver,
                                 admin_context):
    volume_id = volumes.add_volume()
    attached = _attach(api, server['id'], volume_id,
                       headers=V289).json['volumeAttachment']
    assert attached['volumeId'] == volume_id
    assert attached['serverId'] == server['id']
    assert attached['device'] == '/dev/vda'
    assert attached['delete_on_termination'] is False
    assert 'id' not in attached
    attachment_id = attached['attachment_id']
    assert [call[0] for call in volumes.calls] == [
        'create', 'update', 'complete']
    assert volumes.calls[1] == ('update', 'compute1')
    assert driver.disks[server['id']]['/dev/vda']['data'][
        'device_path'] == '/volumes/' + volume_id
    bdm = db_api.bdm_get_by_volume(admin_context, server['id'], volume_id)
    assert bdm['attachment_id'] == attachment_id
    assert '"driver_volume_type": "file"' in bdm['connection_info']

    old = api.get(_url(server['id'])).json['volumeAttachments']
    assert old == [{'id': volume_id, 'serverId': server['id'],
                    'volumeId': volume_id, 'device': '/dev/vda'}]
    shown = api.get(_url(server['id'], volume_id),
                    headers=V289).json['volumeAttachment']
    assert shown == attached
    view = api.get('/v2.1/servers/' + server['id']).json['server']
    assert view['os-extended-volumes:volumes_attached'] == [
        {'id': volume_id, 'delete_on_termination': False}]

    api.delete(_url(server['id'], volume_id), status=202)
    assert volumes.calls[-1] == ('delete_attachment', attachment_id)
    assert volumes.volumes[volume_id]['status'] == 'available'
    assert driver.disks[server['id']] == {}
    assert api.get(_url(server['id'])).json['volumeAttachments'] == []
    task = api.get('/v2.1/servers/' + server['id']).json['server'][
        'OS-EXT-STS:task_state']
    assert task is None


def test_second_volume_gets_next_device(api, server, volumes):
    _attach(api, server['id'], volumes.add_volume())
    second = _attach(api, server['id'], volumes.add_volume())
    assert second.json['volumeAttachment']['device'] == '/dev/vdb'


def test_attach_twice_conflicts(api, server, volumes):
    volume_id = volumes.add_volume()
    _attach(api, server['id'], volume_id)
    response = _attach(api, server['id'], volume_id, status=409)
    assert 'already attached' in _error(response, 409)


def test_attach_in_use_volume(api, server, volumes):
    response = _attach(api, server['id'], volumes.add_volume('in-use'),
                       status=400)
    assert 'not available' in _error(response, 400)


def test_attach_while_in_task_state(api, server, volumes, admin_context):
    db_api.instance_update_state(admin_context, server['id'], {},
                                 {'task_state': 'powering-off'})
    response = _attach(api, server['id'], volumes.add_volume(), status=409)
    assert 'task_state powering-off' in _error(response, 409)


def test_attach_bad_input(api, server, volumes):
    assert 'not a UUID' in _error(
        _attach(api, server['id'], 'abc', status=400), 400)
    response = _attach(api, server['id'], volumes.add_volume(), status=400,
                       tag='t')
    assert 'tag needs microversion 2.49' in _error(response, 400)
    response = _attach(api, server['id'], volumes.add_volume(), status=400,
                       bogus=1)
    assert 'Unknown attribute' in _error(response, 400)
    response = api.post(_url(server['id']), '{"volumeAttachment": ',
                        content_type='application/json',
                        expect_errors=True)
    assert 'not in valid JSON' in _error(response, 400)
    response = api.post_json(_url(server['id']), {}, expect_errors=True)
    assert 'Mandatory field missing' in _error(response, 400)


def test_attach_unknown_volume_or_server(api, server):
    missing = '0b4b8f62-0e5f-4fa4-a5a4-2d8c8c2b0a11'
    response = _attach(api, server['id'], missing, status=404)
    assert 'Volume %s could not be found' % missing in _error(response, 404)
    response = _attach(api, missing, missing, status=404)
    assert 'Instance %s could not be found' % missing in _error(response,
                                                                404)


def test_detach_not_attached(api, server, volumes):
    volume_id = volumes.add_volume()
    response = api.delete(_url(server['id'], volume_id), expect_errors=True)
    assert 'is not attached' in _error(response, 404)
    response = api.get(_url(server['id'], 'nope'), expect_errors=True)
    assert 'is not attached' in _error(response, 404)


def test_failed_attach_rolls_back(api, server, volumes, driver,
                                  admin_context):
    driver.fail_attach = True
    volume_id = volumes.add_volume()
    response = _attach(api, server['id'], volume_id, status=500)
    assert _error(response, 500) == 'Unexpected API error.'
    assert volumes.attachments == {}
    assert volumes.volumes[volume_id]['status'] == 'available'
    assert db_api.bdm_get_all(admin_context, server['id']) == []
    task = api.get('/v2.1/servers/' + server['id']).json['server'][
        'OS-EXT-STS:task_state']
    assert task is None


def test_tags_and_delete_on_termination(api, server, volumes):
    volume_id = volumes.add_volume()
    attached = _attach(api, server['id'], volume_id, headers=V289,
                       tag='data', delete_on_termination=True).json[
        'volumeAttachment']
    assert (attached['tag'], attached['delete_on_termination']) == (
        'data', True)
    api.delete('/v2.1/servers/' + server['id'], status=204)
    wait_for(lambda: volume_id not in volumes.volumes)
