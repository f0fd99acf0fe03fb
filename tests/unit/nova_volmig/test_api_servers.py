"""The compute API's servers, images and flavors over HTTP."""

import pytest

from tests.unit.nova_volmig.conftest import wait_for

V247 = {'OpenStack-API-Version': 'compute 2.47'}
UNKNOWN = '8d3f2a9e-6a38-4ab6-9d6c-1f0a6b0d7a11'


def _error(response, status):
    assert response.status_int == status
    return response.json['error']['message']


def _status(api, server_id):
    server = api.get('/v2.1/servers/' + server_id).json['server']
    return server['status'], server['OS-EXT-STS:task_state']


def _action(api, server_id, body, status=202):
    return api.post_json('/v2.1/servers/%s/action' % server_id, body,
                         status=status)


def test_version_documents(api):
    root = api.get('/').json['versions'][0]
    assert (root['id'], root['min_version'], root['version']) == (
        'v2.1', '2.1', '2.105')
    assert api.get('/v2.1/').json['version']['id'] == 'v2.1'


def test_legacy_version_header(api):
    response = api.get('/v2.1/flavors',
                       headers={'X-OpenStack-Nova-API-Version': '2.50'})
    assert response.headers['X-OpenStack-Nova-API-Version'] == '2.50'


def test_version_out_of_range(api):
    response = api.get('/v2.1/servers', expect_errors=True,
                       headers={'OpenStack-API-Version': 'compute 2.200'})
    assert 'not supported' in _error(response, 406)


def test_images_and_flavors(api):
    image = api.get('/v2.1/images/detail').json['images'][0]
    assert image['name'] == 'volmig-guest'
    assert image['status'] == 'ACTIVE'
    assert api.get('/v2.1/images/' + image['id']).json['image']['id'] == (
        image['id'])
    flavors = api.get('/v2.1/flavors/detail').json['flavors']
    assert [(f['id'], f['ram'], f['vcpus']) for f in flavors] == [
        ('m1.tiny', 256, 1), ('m1.small', 512, 1)]
    assert _error(api.get('/v2.1/flavors/nope', expect_errors=True), 404)
    assert _error(api.get('/v2.1/images/nope', expect_errors=True), 404)


def test_create_show_list(api, server):
    assert server['status'] == 'ACTIVE'
    assert server['OS-EXT-STS:vm_state'] == 'active'
    assert server['OS-EXT-STS:power_state'] == 1
    assert server['OS-EXT-SRV-ATTR:host'] == 'compute1'
    assert server['OS-EXT-SRV-ATTR:instance_name'] == (
        'volmig-' + server['id'])
    assert server['flavor'] == {'id': 'm1.tiny', 'links': [
        {'rel': 'bookmark',
         'href': 'http://localhost/flavors/m1.tiny'}]}
    assert server['os-extended-volumes:volumes_attached'] == []
    flavor = api.get('/v2.1/servers/' + server['id'],
                     headers=V247).json['server']['flavor']
    assert flavor['original_name'] == 'm1.tiny'
    assert flavor['ram'] == 256
    listed = api.get('/v2.1/servers').json['servers']
    assert [s['id'] for s in listed] == [server['id']]
    assert set(listed[0]) == {'id', 'name', 'links'}
    detail = api.get('/v2.1/servers/detail?status=active').json['servers']
    assert detail[0]['status'] == 'ACTIVE'


@pytest.mark.parametrize('body,message', [
    ('{"server": ', 'not in valid JSON'),
    ('[]', 'must be a JSON object'),
    ('{"server": {"name": "a", "imageRef": "x", "flavorRef": "m1.tiny", '
     '"bogus": 1}}', 'Unknown attribute'),
    ('{"server": {"imageRef": "x", "flavorRef": "m1.tiny"}}',
     'Mandatory field missing'),
    ('{"server": {"name": "a", "imageRef": "x", "flavorRef": "m1.tiny"}}',
     'Can not find requested image x'),
    ('{"server": {"name": " ", "imageRef": "x", "flavorRef": "m1.tiny"}}',
     'name must be'),
])
def test_create_bad_input(api, body, message):
    response = api.post('/v2.1/servers', body, expect_errors=True,
                        content_type='application/json')
    assert message in _error(response, 400)


def test_create_unknown_flavor(api):
    image_id = api.get('/v2.1/images').json['images'][0]['id']
    response = api.post_json('/v2.1/servers', {'server': {
        'name': 'a', 'imageRef': image_id, 'flavorRef': 'm9.huge'}},
        expect_errors=True)
    assert 'Invalid flavorRef' in _error(response, 400)


@pytest.mark.parametrize('server_id', [UNKNOWN, 'not-a-uuid'])
def test_unknown_server(api, server_id):
    for response in (
            api.get('/v2.1/servers/' + server_id, expect_errors=True),
            api.delete('/v2.1/servers/' + server_id, expect_errors=True),
            _action(api, server_id, {'os-start': None}, status=404)):
        assert 'could not be found' in _error(response, 404)


def test_stop_start_reboot(api, server, driver):
    server_id = server['id']
    response = _action(api, server_id, {'os-start': None}, status=409)
    assert 'Cannot start instance' in _error(response, 409)
    _action(api, server_id, {'os-stop': None})
    wait_for(lambda: _status(api, server_id) == ('SHUTOFF', None))
    assert driver.power[server_id] == 4
    _action(api, server_id, {'os-stop': None}, status=409)
    _action(api, server_id, {'reboot': {'type': 'SOFT'}}, status=409)
    _action(api, server_id, {'os-start': None})
    wait_for(lambda: _status(api, server_id) == ('ACTIVE', None))
    _action(api, server_id, {'reboot': {'type': 'HARD'}})
    wait_for(lambda: _status(api, server_id) == ('ACTIVE', None))
    _action(api, server_id, {'reboot': {'type': 'soft'}})
    wait_for(lambda: _status(api, server_id) == ('ACTIVE', None))


@pytest.mark.parametrize('body,message', [
    ({'reboot': {'type': 'WARM'}}, 'reboot needs'),
    ({'reboot': None}, 'reboot needs'),
    ({'os-pause': None}, 'Unsupported server action os-pause'),
    ({'os-start': None, 'os-stop': None}, 'exactly one action'),
    ({'os-getConsoleOutput': {'length': 'x'}}, 'length must be'),
    ({'os-getConsoleOutput': {'lines': 1}}, 'os-getConsoleOutput takes'),
])
def test_bad_actions(api, server, body, message):
    response = _action(api, server['id'], body, status=400)
    assert message in _error(response, 400)


def test_action_malformed_json(api, server):
    response = api.post('/v2.1/servers/%s/action' % server['id'], '{x',
                        content_type='application/json', expect_errors=True)
    assert 'not in valid JSON' in _error(response, 400)


def test_console_output(api, server):
    output = _action(api, server['id'], {'os-getConsoleOutput': None},
                     status=200).json['output']
    assert output == 'boot\nVOLMIG-GUEST READY\n'
    output = _action(api, server['id'],
                     {'os-getConsoleOutput': {'length': 1}},
                     status=200).json['output']
    assert output == 'VOLMIG-GUEST READY\n'


def test_delete(api, server, driver):
    api.delete('/v2.1/servers/' + server['id'], status=204)
    wait_for(lambda: api.get('/v2.1/servers/' + server['id'],
                             expect_errors=True).status_int == 404)
    assert server['id'] not in driver.power
    assert api.get('/v2.1/servers').json['servers'] == []


def test_power_state_sync(api, server, driver, compute_manager):
    # The guest powered itself off behind the service's back.
    driver.power[server['id']] = 4
    compute_manager.sync_power_states()
    assert _status(api, server['id']) == ('SHUTOFF', None)
