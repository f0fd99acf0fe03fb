"""The attachments API (3.27+, os-complete 3.44) and volume statuses."""

import pytest

from tests.unit.cinder_volmig import helpers
from tests.unit.cinder_volmig.helpers import assert_error
from tests.unit.cinder_volmig.helpers import url

SERVER = '6d3a1b2c-8f4e-4a5b-9c6d-7e8f9a0b1c2d'
OTHER_SERVER = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b'
MISSING = '0b8c6a0e-8f5f-4e0c-9a8e-7d6f3c1b2a90'
CONNECTOR = {'host': 'compute1', 'initiator': 'iqn.test',
             'mountpoint': '/dev/vdb'}
V = helpers.headers('3.44')


def _create(api, volume_id, server=SERVER, connector=None, **kwargs):
    body = {'attachment': {'volume_uuid': volume_id,
                           'instance_uuid': server}}
    if connector is not None:
        body['attachment']['connector'] = connector
    return api.post_json(url('/attachments'), body, headers=V, **kwargs)


def _volume(api, volume_id):
    return api.get(url('/volumes/%s' % volume_id)).json['volume']


def test_attach_flow_reserve_update_complete_delete(api, conf):
    volume = helpers.create_volume(api, volume_type='fast')
    attachment = _create(api, volume['id']).json['attachment']
    assert attachment['status'] == 'reserved'
    assert _volume(api, volume['id'])['status'] == 'reserved'

    updated = api.put_json(url('/attachments/%s' % attachment['id']),
                           {'attachment': {'connector': CONNECTOR}},
                           headers=V).json['attachment']
    assert updated['status'] == 'attaching'
    info = updated['connection_info']
    assert info['driver_volume_type'] == 'file'
    assert info['data']['device_path'] == '%s/volumes/fast/volume-%s' % (
        conf.state_path, volume['id'])
    assert _volume(api, volume['id'])['status'] == 'attaching'

    response = api.post_json(url('/attachments/%s/action' % attachment['id']),
                             {'os-complete': None}, headers=V)
    assert response.status_int == 204
    shown = _volume(api, volume['id'])
    assert shown['status'] == 'in-use'
    [summary] = shown['attachments']
    assert summary['attachment_id'] == attachment['id']
    assert summary['server_id'] == SERVER
    assert summary['host_name'] == 'compute1'
    assert summary['device'] == '/dev/vdb'
    assert summary['attached_at']
    detail = api.get(url('/attachments/%s' % attachment['id']),
                     headers=V).json['attachment']
    assert detail['status'] == 'attached'

    remaining = api.delete(url('/attachments/%s' % attachment['id']),
                           headers=V).json['attachments']
    assert remaining == []
    shown = _volume(api, volume['id'])
    assert (shown['status'], shown['attachments']) == ('available', [])
    assert_error(api.get(url('/attachments/%s' % attachment['id']),
                         headers=V, expect_errors=True), 404, 'not be found')


def test_create_with_connector_returns_connection_info(api):
    volume = helpers.create_volume(api)
    attachment = _create(api, volume['id'],
                         connector=CONNECTOR).json['attachment']
    assert attachment['status'] == 'attaching'
    assert attachment['connection_info']['driver_volume_type'] == 'file'


def test_list_and_detail_filter_by_volume(api):
    first = helpers.create_volume(api)
    second = helpers.create_volume(api)
    _create(api, first['id'])
    _create(api, second['id'])
    listed = api.get(url('/attachments?volume_id=%s' % first['id']),
                     headers=V).json['attachments']
    assert [a['volume_id'] for a in listed] == [first['id']]
    assert 'connection_info' not in listed[0]
    detail = api.get(url('/attachments/detail'), headers=V).json
    assert len(detail['attachments']) == 2
    assert 'connection_info' in detail['attachments'][0]


def test_second_attachment_needs_multiattach(api):
    volume = helpers.create_volume(api)
    _create(api, volume['id'])
    assert_error(_create(api, volume['id'], server=OTHER_SERVER,
                         expect_errors=True), 400, 'not multiattach')


def test_multiattach_volume_takes_several_attachments(api):
    volume = helpers.create_volume(api, multiattach=True)
    assert volume['multiattach'] is True
    ids = []
    for server in (SERVER, OTHER_SERVER):
        attachment = _create(api, volume['id'], server=server,
                             connector=CONNECTOR).json['attachment']
        api.post_json(url('/attachments/%s/action' % attachment['id']),
                      {'os-complete': None}, headers=V)
        ids.append(attachment['id'])
    shown = _volume(api, volume['id'])
    assert shown['status'] == 'in-use'
    assert len(shown['attachments']) == 2
    remaining = api.delete(url('/attachments/%s' % ids[0]),
                           headers=V).json['attachments']
    assert [a['id'] for a in remaining] == [ids[1]]
    assert _volume(api, volume['id'])['status'] == 'in-use'
    api.delete(url('/attachments/%s' % ids[1]), headers=V)
    assert _volume(api, volume['id'])['status'] == 'available'


def test_complete_needs_a_connector_first(api):
    volume = helpers.create_volume(api)
    attachment = _create(api, volume['id']).json['attachment']
    response = api.post_json(
        url('/attachments/%s/action' % attachment['id']),
        {'os-complete': None}, headers=V, expect_errors=True)
    assert_error(response, 400, 'reserved')


def test_attachments_need_microversion_3_27(api):
    assert_error(api.get(url('/attachments'), expect_errors=True,
                         headers=helpers.headers('3.26')), 404, '3.27')
    volume = helpers.create_volume(api)
    attachment = _create(api, volume['id']).json['attachment']
    response = api.post_json(
        url('/attachments/%s/action' % attachment['id']),
        {'os-complete': None}, headers=helpers.headers('3.43'),
        expect_errors=True)
    assert_error(response, 404, '3.44')


@pytest.mark.parametrize('attachment_id', [MISSING, 'nope'])
def test_unknown_attachment_is_404(api, attachment_id):
    for call in (api.get, api.delete):
        assert_error(call(url('/attachments/%s' % attachment_id), headers=V,
                          expect_errors=True), 404, 'could not be found')
    response = api.put_json(url('/attachments/%s' % attachment_id),
                            {'attachment': {'connector': CONNECTOR}},
                            headers=V, expect_errors=True)
    assert_error(response, 404, 'could not be found')


def test_attachment_of_unknown_volume_is_404(api):
    assert_error(_create(api, MISSING, expect_errors=True), 404,
                 'could not be found')


@pytest.mark.parametrize('body, fragment', [
    ('{"attachment": ', 'not in valid JSON'),
    ('{"attachment": {}}', 'Mandatory field missing'),
    ('{"attachment": {"volume_uuid": "%s", "size": 1}}' % MISSING, 'size'),
    ('{"attachment": {"volume_uuid": "%s", "connector": 3}}' % MISSING,
     'JSON object'),
    ('{"attachment": {"volume_uuid": "%s", "mode": "rx"}}' % MISSING,
     'rx'),
])
def test_create_refuses_bad_input(api, body, fragment):
    response = api.post(url('/attachments'), body, headers=V,
                        content_type='application/json', expect_errors=True)
    assert_error(response, 400, fragment)


def test_update_and_action_refuse_bad_input(api):
    volume = helpers.create_volume(api)
    attachment = _create(api, volume['id']).json['attachment']
    path = url('/attachments/%s' % attachment['id'])
    assert_error(api.put_json(path, {'attachment': {}}, headers=V,
                              expect_errors=True), 400, 'Mandatory')
    assert_error(api.put_json(path, {'attachment': {'connector': {}}},
                              headers=V, expect_errors=True),
                 400, 'connector is required')
    assert_error(api.post_json(path + '/action', {'os-detach': None},
                               headers=V, expect_errors=True),
                 400, 'os-detach')
    assert_error(api.post_json(path + '/action', {}, headers=V,
                               expect_errors=True), 400, 'os-complete')
