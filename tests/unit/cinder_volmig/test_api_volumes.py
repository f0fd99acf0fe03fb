"""The volumes API, through the real app, manager and file driver."""

import os

import pytest

from cinder_volmig.db import api as db_api
from tests.unit.cinder_volmig import helpers
from tests.unit.cinder_volmig.helpers import assert_error
from tests.unit.cinder_volmig.helpers import url

MISSING = '0b8c6a0e-8f5f-4e0c-9a8e-7d6f3c1b2a90'


def test_version_documents_let_clients_negotiate(api):
    root = api.get('/', status=300).json['versions']
    assert [(v['id'], v['min_version'], v['version']) for v in root] == [
        ('v3.0', '3.0', '3.72')]
    v3 = api.get('/v3/').json['version']
    assert v3['links'][0]['href'].endswith('/v3/')
    assert v3['version'] == '3.72'


def test_create_makes_a_sparse_file_and_becomes_available(api, conf):
    response = api.post_json(url('/volumes'), {'volume': {
        'size': 2, 'name': 'data', 'description': 'd',
        'metadata': {'k': 'v'}}})
    assert response.status_int == 202
    created = response.json['volume']
    assert created['status'] == 'creating'
    volume = helpers.wait_for_status(api, created['id'], 'available')
    assert volume['size'] == 2
    assert volume['name'] == 'data'
    assert volume['metadata'] == {'k': 'v'}
    assert volume['os-vol-host-attr:host'] in ('node1@fast#fast',
                                               'node1@slow#slow')
    assert volume['os-vol-tenant-attr:tenant_id'] == helpers.PROJECT
    assert volume['attachments'] == []
    assert volume['multiattach'] is False
    assert volume['bootable'] == 'false'
    assert volume['migration_status'] is None
    backend = volume['os-vol-host-attr:host'].split('@')[1].split('#')[0]
    path = os.path.join(conf.state_path, 'volumes', backend,
                        'volume-%s' % volume['id'])
    stat = os.stat(path)
    assert stat.st_size == 2 * 1024 ** 3
    assert stat.st_blocks == 0


def test_what_cinderclient_sends_on_create_is_accepted(api):
    body = {'volume': {'size': 1, 'consistencygroup_id': None,
                       'snapshot_id': None, 'name': None,
                       'description': None, 'volume_type': None,
                       'availability_zone': None, 'metadata': {},
                       'imageRef': None, 'source_volid': None,
                       'backup_id': None},
            'OS-SCH-HNT:scheduler_hints': {'same_host': []}}
    assert api.post_json(url('/volumes'), body).status_int == 202


def test_volume_type_names_the_backend(api):
    volume = helpers.create_volume(api, volume_type='slow')
    assert volume['os-vol-host-attr:host'] == 'node1@slow#slow'
    assert volume['volume_type'] == 'slow'


def test_list_show_and_detail(api):
    first = helpers.create_volume(api, name='one')
    second = helpers.create_volume(api, name='two')
    listed = api.get(url('/volumes')).json['volumes']
    assert {v['id'] for v in listed} == {first['id'], second['id']}
    assert set(listed[0]) == {'id', 'name', 'links'}
    detail = api.get(url('/volumes/detail')).json['volumes']
    assert {v['status'] for v in detail} == {'available'}
    named = api.get(url('/volumes/detail?name=two')).json['volumes']
    assert [v['id'] for v in named] == [second['id']]
    shown = api.get(url('/volumes/%s' % first['id'])).json['volume']
    assert shown['name'] == 'one'
    limited = api.get(url('/volumes?limit=1')).json['volumes']
    assert len(limited) == 1


def test_project_id_in_the_path_is_optional_from_3_67(api):
    volume = helpers.create_volume(api)
    listed = api.get('/v3/volumes', headers=helpers.headers('3.67'))
    assert [v['id'] for v in listed.json['volumes']] == [volume['id']]


def test_migration_targets_are_hidden_from_listings(api, admin_context):
    volume = helpers.create_volume(api)
    assert db_api.volume_compare_and_swap(
        admin_context, volume['id'], {'status': 'available'},
        {'migration_status': 'target:%s' % MISSING})
    assert api.get(url('/volumes')).json['volumes'] == []
    assert api.get(url('/volumes/detail')).json['volumes'] == []


@pytest.mark.parametrize('version, present, absent', [
    ('3.0', [], ['service_uuid', 'shared_targets', 'volume_type_id',
                 'group_id']),
    ('3.72', ['service_uuid', 'shared_targets', 'volume_type_id',
              'group_id', 'provider_id', 'cluster_name'], []),
])
def test_fields_follow_the_microversion(api, version, present, absent):
    volume = helpers.create_volume(api)
    shown = api.get(url('/volumes/%s' % volume['id']),
                    headers=helpers.headers(version))
    assert shown.headers['OpenStack-API-Version'] == 'volume ' + version
    for field in present:
        assert field in shown.json['volume']
    for field in absent:
        assert field not in shown.json['volume']


def test_delete_removes_volume_and_file(api, conf):
    volume = helpers.create_volume(api, volume_type='fast')
    path = os.path.join(conf.state_path, 'volumes', 'fast',
                        'volume-%s' % volume['id'])
    assert os.path.exists(path)
    assert api.delete(url('/volumes/%s' % volume['id'])).status_int == 202
    helpers.wait_until_deleted(api, volume['id'])
    assert not os.path.exists(path)


def test_delete_accepts_what_openstacksdk_sends(api):
    volume = helpers.create_volume(api)
    response = api.delete(url('/volumes/%s?cascade=False&force=False'
                              % volume['id']))
    assert response.status_int == 202
    helpers.wait_until_deleted(api, volume['id'])


# Bad input: a JSON error with the right status, never a 500.

@pytest.mark.parametrize('body, fragment', [
    ('{"volume": {"size": 1', 'not in valid JSON'),
    ('[1]', 'must be a JSON object'),
    ('{}', 'Mandatory field missing'),
    ('{"volume": {}}', 'Mandatory field missing'),
    ('{"volume": {"size": 1, "colour": "red"}}', 'colour'),
    ('{"volume": {"size": "big"}}', 'big'),
    ('{"volume": {"size": 0}}', 'greater than 0'),
    ('{"volume": {"size": -3}}', 'greater than 0'),
    ('{"volume": {"size": 1, "metadata": "x"}}', 'metadata'),
    ('{"volume": {"size": 1, "snapshot_id": "%s"}}' % MISSING,
     'snapshot_id is not supported'),
    ('{"volume": {"size": 1, "volume_type": "gold"}}', 'gold'),
    ('{"volume": {"size": 1, "availability_zone": "mars"}}', 'mars'),
    ('{"volume": {"size": 100000000}}', 'No valid backend'),
])
def test_create_refuses_bad_input(api, body, fragment):
    response = api.post(url('/volumes'), body,
                        content_type='application/json', expect_errors=True)
    assert_error(response, 400, fragment)


@pytest.mark.parametrize('volume_id', [MISSING, 'not-a-uuid', '1'])
def test_unknown_or_malformed_volume_id_is_404(api, volume_id):
    assert_error(api.get(url('/volumes/%s' % volume_id), expect_errors=True),
                 404, 'could not be found')
    assert_error(api.delete(url('/volumes/%s' % volume_id),
                            expect_errors=True),
                 404, 'could not be found')


def test_unknown_query_parameter_is_400(api):
    assert_error(api.get(url('/volumes?colour=red'), expect_errors=True),
                 400, 'colour')


def test_bad_limit_and_boolean_are_400(api):
    assert_error(api.get(url('/volumes?limit=-1'), expect_errors=True),
                 400, 'limit')
    assert_error(api.get(url('/volumes?all_tenants=maybe'),
                         expect_errors=True), 400, 'all_tenants')


def test_unsupported_microversion_is_406(api):
    assert_error(api.get(url('/volumes'), headers=helpers.headers('3.73'),
                         expect_errors=True), 406, '3.72')


def test_delete_of_an_attached_volume_is_refused(api):
    volume = helpers.create_volume(api)
    api.post_json(url('/attachments'), {'attachment': {
        'volume_uuid': volume['id'], 'instance_uuid': MISSING}},
        headers=helpers.headers('3.27'))
    response = api.delete(url('/volumes/%s' % volume['id']),
                          expect_errors=True)
    assert_error(response, 400, 'reserved')
    shown = api.get(url('/volumes/%s' % volume['id'])).json['volume']
    assert shown['status'] == 'reserved'


def test_listing_is_per_project_unless_an_admin_asks(api):
    volume = helpers.create_volume(api)
    other = {'X-Auth-Token': 'bob:other'}
    path = '/v3/other/volumes'
    assert api.get(path, headers=other).json['volumes'] == []
    for query in ('?all_tenants=1', '?all_tenants=True',
                  '?project_id=%s' % helpers.PROJECT):
        listed = api.get(path + query, headers=other).json['volumes']
        assert [v['id'] for v in listed] == [volume['id']]
