"""Both APIs behind a real Keystone: tokens, policy, and service calls.

Keystone (the keystone package, in its own virtualenv) serves on loopback
with an admin, a project member (``demo``) and a user holding only the
``service`` role (``volmig``), which each service uses to call the other:
alone for its own work, as the service token beside the caller's token
for a user's request.
"""

import json
import os
import subprocess
import sys

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
import pytest
import requests

from tests.functional import deployment as deployment_mod
from tests.functional import guest_records

KEYSTONE_VENV = os.path.join(deployment_mod.REPO, '.venv-keystone')
MIG_FIELDS = ('migration_status', 'os-vol-mig-status-attr:migstat',
              'os-vol-mig-status-attr:name_id', 'migration_progress')
# Log lines name the caller and the service that vouched for it.
IDENTITY_FORMAT = '%(user)s %(project)s service:%(service_user_id)s'


class Keystone:
    def __init__(self, state_dir):
        self.state_dir = state_dir
        deployment_mod.run_tool('keystone.sh')
        self._log = open(os.path.join(state_dir, 'stdout.log'), 'w')
        self.process = subprocess.Popen(
            [os.path.join(KEYSTONE_VENV, 'bin', 'python'),
             os.path.join(deployment_mod.REPO, 'tools', 'start-keystone.py'),
             state_dir], stdout=self._log, stderr=subprocess.STDOUT)
        described = os.path.join(state_dir, 'keystone.json')
        deployment_mod.wait_for(lambda: self._exists(described), 120,
                                'Keystone to serve')
        with open(described) as f:
            info = json.load(f)
        self.auth_url = info['auth_url']
        self.users = info['users']
        self.sessions = {name: self._session(name) for name in self.users}

    def _exists(self, path):
        if self.process.poll() is not None:
            raise AssertionError('Keystone exited with %s'
                                 % self.process.returncode)
        return os.path.exists(path)

    def _session(self, name):
        user = self.users[name]
        return ks_session.Session(auth=v3.Password(
            auth_url=self.auth_url, username=name,
            password=user['password'], project_name=user['project'],
            user_domain_id='default', project_domain_id='default'))

    def token(self, name):
        return self.sessions[name].get_token()

    def project_id(self, name):
        return self.sessions[name].get_project_id()

    def user_id(self, name):
        return self.sessions[name].get_user_id()

    def service_auth(self):
        """The options of a [section] that authenticates as ``volmig``."""
        return {'auth_type': 'password', 'auth_url': self.auth_url,
                'username': 'volmig',
                'password': self.users['volmig']['password'],
                'project_name': 'service', 'user_domain_id': 'default',
                'project_domain_id': 'default'}

    def add_endpoint(self, service_type, url):
        admin = self.sessions['admin']
        identity = {'service_type': 'identity'}
        service = admin.post('/services', endpoint_filter=identity, json={
            'service': {'type': service_type, 'name': service_type}})
        admin.post('/endpoints', endpoint_filter=identity, json={
            'endpoint': {'service_id': service.json()['service']['id'],
                         'interface': 'public', 'region_id': 'RegionOne',
                         'url': url}})

    def stop(self):
        deployment_mod.terminate(self.process)
        self._log.close()


@pytest.fixture(scope='module')
def keystone(tmp_path_factory):
    ks = Keystone(str(tmp_path_factory.mktemp('keystone')))
    try:
        yield ks
    finally:
        ks.stop()


def _service_conf(keystone, peer_section, peer_endpoint):
    # A service token counts only with the service role.
    authtoken = dict(keystone.service_auth(),
                     www_authenticate_uri=keystone.auth_url,
                     service_token_roles='service',
                     service_token_roles_required=True)
    return {'DEFAULT': {'auth_strategy': 'keystone',
                        'logging_user_identity_format': IDENTITY_FORMAT},
            'keystone_authtoken': authtoken,
            peer_section: dict(keystone.service_auth(),
                               endpoint_override=peer_endpoint)}


@pytest.fixture(scope='module')
def deployment(keystone, guest_image, tmp_path_factory):
    state = str(tmp_path_factory.mktemp('state'))
    # Ports first: the service configurations and the catalog name them.
    d = deployment_mod.Deployment(state, guest_image)
    cinder_url = 'http://127.0.0.1:%d/v3' % d.cinder_port
    nova_url = 'http://127.0.0.1:%d/v2.1' % d.nova_port
    for service_type in ('volumev3', 'block-storage'):
        keystone.add_endpoint(service_type, cinder_url + '/$(project_id)s')
    keystone.add_endpoint('compute', nova_url)
    # Calls for a user name the user's project.
    d.extra_conf['nova'] = _service_conf(keystone, 'cinder',
                                         cinder_url + '/%(project_id)s')
    d.extra_conf['cinder'] = _service_conf(keystone, 'nova', nova_url)
    admin_token = keystone.token('admin')
    for client in (d.compute, d.volume):
        client.session.headers['X-Auth-Token'] = admin_token
    with d:
        yield d


@pytest.fixture
def guest(deployment):
    """An admin's server writing to an admin's attached volume."""
    d = deployment
    server = d.boot_server('keystone-guest')['id']
    volume = d.create_volume(size=1, volume_type='backend1')
    attachment, path = d.attach(server, volume['id'])
    d.wait_acks(server, 100)
    return {'server': server, 'volume': volume['id'],
            'attachment': attachment, 'path': path}


def _client(deployment, keystone, user, service):
    if service == 'volume':
        client = deployment_mod.APIClient(
            '%s/%s' % (deployment.cinder_endpoint, keystone.project_id(user)),
            'volume', '3.72')
    else:
        client = deployment_mod.APIClient(
            deployment.compute.base, 'compute',
            deployment_mod.MIGRATION_VERSION)
    client.session.headers['X-Auth-Token'] = keystone.token(user)
    return client


def _cli(keystone, user, command, *args):
    """A client's command line with password auth: endpoints come from
    Keystone's catalog."""
    env = dict(os.environ, OS_AUTH_TYPE='password',
               OS_AUTH_URL=keystone.auth_url, OS_USERNAME=user,
               OS_PASSWORD=keystone.users[user]['password'],
               OS_PROJECT_NAME=keystone.users[user]['project'],
               OS_USER_DOMAIN_ID='default', OS_PROJECT_DOMAIN_ID='default')
    for key in ('OS_CLOUD', 'CINDER_ENDPOINT', 'OS_TOKEN', 'OS_ENDPOINT'):
        env.pop(key, None)
    return subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), command), *args],
        env=env, capture_output=True, text=True, timeout=120)


def test_no_token_is_refused(deployment):
    for url in (deployment.compute.base + '/servers',
                deployment.volume.base + '/volumes'):
        assert requests.get(url, timeout=30).status_code == 401


def test_version_documents_need_no_token(deployment):
    # Cinder answers its version list with 300 Multiple Choices, as
    # Cinder does.
    for port, status in ((deployment.nova_port, 200),
                         (deployment.cinder_port, 300)):
        response = requests.get('http://127.0.0.1:%d/' % port, timeout=30)
        assert response.status_code == status, response.text
        assert response.json()['versions']


def test_member_policy(deployment, keystone, guest):
    d = deployment
    volume = _client(d, keystone, 'demo', 'volume')
    compute = _client(d, keystone, 'demo', 'compute')
    response = volume.post('/volumes', {'volume': {'size': 1}})
    assert response.status_code == 202, response.text
    own = response.json()['volume']['id']

    # Only its own volumes, and none of the admin-only fields.
    listed = volume.get('/volumes/detail').json()['volumes']
    assert [v['id'] for v in listed] == [own]
    shown = volume.get('/volumes/%s' % own).json()['volume']
    for field in MIG_FIELDS + ('os-vol-host-attr:host',):
        assert field not in shown, (field, shown)
    assert volume.get('/volumes/%s' % guest['volume']).status_code == 404
    admin_view = d.volume.get('/volumes/%s' % own, version='3.72').json()
    for field in MIG_FIELDS + ('os-vol-host-attr:host',):
        assert field in admin_view['volume'], field

    response = volume.post('/volumes/%s/action' % own, {
        'os-migrate_volume': {'host': d.volume_host('backend2')}})
    assert response.status_code == 403, response.text

    # Only its own servers.
    assert compute.get('/servers').json()['servers'] == []
    assert compute.get('/servers/%s' % guest['server']).status_code == 404

    migration = '/os-volume-migrations/%s' % guest['attachment']
    for method, path, body in (
            ('GET', '/os-volume-migrations', None),
            ('GET', migration, None),
            ('POST', '/os-volume-migrations',
             {'volume_migration': {'attachment_id': guest['attachment']}}),
            ('POST', migration + '/action', {'cancel': None}),
            ('POST', migration + '/action',
             {'complete': {'new_attachment_id': guest['attachment']}})):
        response = compute.request(method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()['error']['code'] == 403


def test_service_token_needs_the_service_role(deployment, keystone):
    for url, version in (
            (deployment.compute.base + '/os-volume-migrations',
             'compute 2.105'),
            (deployment.volume.base + '/volumes', 'volume 3.0')):
        for service, status in (('volmig', 200), ('demo', 401)):
            response = requests.get(url, timeout=30, headers={
                'X-Auth-Token': keystone.token('admin'),
                'X-Service-Token': keystone.token(service),
                'OpenStack-API-Version': version})
            assert response.status_code == status, (url, service,
                                                    response.text)


def test_service_role(deployment, keystone, guest):
    compute = _client(deployment, keystone, 'volmig', 'compute')
    response = compute.get('/os-volume-migrations')
    assert response.status_code == 200, response.text
    volume = _client(deployment, keystone, 'volmig', 'volume')
    response = volume.post('/volumes/%s/action' % guest['volume'], {
        'os-migrate_volume': {'host': deployment.volume_host('backend2')}})
    assert response.status_code == 403, response.text


def test_cinder_migrate_with_keystone(deployment, keystone, guest):
    """python-cinderclient, password auth, through Keystone's catalog;
    Cinder and Nova call each other for the admin, with the service
    user's tokens as service tokens."""
    d = deployment
    result = _cli(keystone, 'admin', 'cinder', 'migrate', guest['volume'],
                  d.volume_host('backend2'))
    assert result.returncode == 0, result.stderr

    def done():
        volume = d.volume.get('/volumes/%s' % guest['volume'],
                              version='3.72').json()['volume']
        if volume['migration_status'] in ('success', 'error'):
            return volume
        return None
    volume = deployment_mod.wait_for(done, 180, 'the migration to end')
    assert volume['migration_status'] == 'success', d.log_tail()
    assert volume['os-vol-host-attr:host'].startswith(
        d.volume_host('backend2'))
    new_path = d.volume_path(volume)
    d.wait_disk_source(guest['server'], new_path)
    d.wait_acks(guest['server'], 100)

    response = d.compute.delete('/servers/%s/os-volume_attachments/%s'
                                % (guest['server'], guest['volume']))
    assert response.status_code == 202, response.text
    d.wait_volume(guest['volume'], 'available')
    console = guest_records.last_boot(d.console(guest['server']))
    assert guest_records.verify_volume(new_path, console) == []

    # The compute service started and completed the migration for the
    # admin, Cinder's service token validated by Nova's auth_token.
    caller = '%s %s service:%s' % (keystone.user_id('admin'),
                                   keystone.project_id('admin'),
                                   keystone.user_id('volmig'))
    with open(d.log_path) as f:
        lines = [line for line in f
                 if 'attachment %s' % guest['attachment'] in line]
    for step in ('suspending writes', 'switching to'):
        logged = [line for line in lines if step in line]
        assert logged, step
        for line in logged:
            assert caller in line, line

    for path in (d.log_path, os.path.join(d.state_dir, 'stdout.log')):
        with open(path) as f:
            log = f.read()
        for user in keystone.users.values():
            assert user['password'] not in log, path


def test_openstack_volume_migration_through_the_catalog(deployment,
                                                        keystone):
    """The openstackclient plugin finds both APIs in the catalog and
    follows a migration; a project member is refused."""
    d = deployment
    volume = d.create_volume(size=1, volume_type='backend1')
    result = _cli(keystone, 'admin', 'openstack', 'volume', 'migrate',
                  '--host', d.volume_host('backend2'), volume['id'])
    assert result.returncode == 0, result.stderr
    result = _cli(keystone, 'admin', 'openstack', 'volume', 'migration',
                  'watch', volume['id'], '--interval', '0.1', '--timeout',
                  '120')
    assert result.returncode == 0, result.stderr
    assert 'success' in result.stdout, result.stdout
    moved = d.volume.get('/volumes/%s' % volume['id']).json()['volume']
    assert moved['os-vol-host-attr:host'].startswith(
        d.volume_host('backend2'))

    result = _cli(keystone, 'admin', 'openstack', 'volume', 'migration',
                  'list', '-f', 'json')
    assert result.returncode == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)

    result = _cli(keystone, 'demo', 'openstack', 'volume', 'migration',
                  'list')
    assert result.returncode != 0
    assert '403' in result.stderr or 'not allow' in result.stderr, (
        result.stderr)
