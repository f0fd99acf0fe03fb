"""Which token a call to the other service carries.

Over real HTTP: a fake Keystone issues the service user's token, and a
fake peer service records what it received.
"""

import json

from oslo_config import cfg
import pytest
import webob
import webob.dec

from volmig_common import context
from volmig_common import rpc
from volmig_common import service_client
from volmig_common import wsgi

SERVICE_TOKEN = 'service-user-token'
SERVICE_PROJECT = 'service-project'


@webob.dec.wsgify
def _keystone(request):
    assert (request.method, request.path) == ('POST', '/v3/auth/tokens')
    auth = request.json['auth']['identity']['password']['user']
    assert (auth['name'], auth['password']) == ('volmig', 'secret')
    domain = {'id': 'default', 'name': 'Default'}
    body = {'token': {
        'methods': ['password'], 'expires_at': '2099-01-01T00:00:00Z',
        'user': {'id': 'service-user', 'name': 'volmig', 'domain': domain},
        'project': {'id': SERVICE_PROJECT, 'name': 'service',
                    'domain': domain},
        'roles': [{'id': 'r1', 'name': 'service'}], 'catalog': []}}
    return webob.Response(status=201, json_body=body,
                          headers={'X-Subject-Token': SERVICE_TOKEN})


class _Peer:
    def __init__(self):
        self.seen = []

    @webob.dec.wsgify
    def __call__(self, request):
        self.seen.append((request.path, request.headers.get('X-Auth-Token'),
                          request.headers.get('X-Service-Token')))
        return webob.Response(json_body={'ok': True})


@pytest.fixture
def servers():
    peer = _Peer()
    started = [wsgi.Server('keystone', _keystone, '127.0.0.1', 0),
               wsgi.Server('peer', peer, '127.0.0.1', 0)]
    for server in started:
        server.start()
    yield started[0].port, started[1].port, peer
    for server in started:
        server.stop()


def _client(tmp_path, options):
    path = tmp_path / 'service.conf'
    path.write_text('[peer]\n' + ''.join('%s = %s\n' % kv
                                         for kv in options.items()))
    conf = cfg.ConfigOpts()
    service_client.register_opts(conf, 'peer', 'compute')
    conf(['--config-file', str(path)])
    return service_client.ServiceClient(conf, 'peer', 'compute 2.105')


def _keystone_client(tmp_path, keystone_port, peer_port):
    return _client(tmp_path, {
        'auth_type': 'v3password',
        'auth_url': 'http://127.0.0.1:%d/v3' % keystone_port,
        'username': 'volmig', 'password': 'secret',
        'user_domain_id': 'default', 'project_name': 'service',
        'project_domain_id': 'default',
        'endpoint_override': 'http://127.0.0.1:%d/v2.1/%%(project_id)s'
                             % peer_port})


def _caller():
    return context.RequestContext(auth_token='caller-token',
                                  user_id='caller', project_id='caller-p',
                                  roles=['admin'])


def test_caller_token_with_service_token(tmp_path, servers):
    keystone_port, peer_port, peer = servers
    client = _keystone_client(tmp_path, keystone_port, peer_port)
    assert client.request(_caller(), 'GET', '/things') == {'ok': True}
    # The endpoint names the caller's project.
    assert peer.seen == [('/v2.1/caller-p/things', 'caller-token',
                          SERVICE_TOKEN)]


def test_service_work_as_the_service_user(tmp_path, servers):
    keystone_port, peer_port, peer = servers
    client = _keystone_client(tmp_path, keystone_port, peer_port)
    client.request(context.get_admin_context(), 'GET', '/things')
    assert peer.seen == [('/v2.1/%s/things' % SERVICE_PROJECT,
                          SERVICE_TOKEN, None)]


def test_no_service_auth_forwards_nothing(tmp_path, servers):
    _, peer_port, peer = servers
    client = _client(tmp_path, {
        'auth_type': 'none',
        'endpoint_override': 'http://127.0.0.1:%d/v2.1' % peer_port})
    client.request(_caller(), 'GET', '/things')
    [(path, token, service_token)] = peer.seen
    assert path == '/v2.1/things'
    # keystoneauth's placeholder, not the caller's token.
    assert token != 'caller-token'
    assert service_token is None


def test_rpc_carries_the_caller_and_its_service():
    """What the compute and volume services make their calls with."""
    environ = {'HTTP_X_AUTH_TOKEN': 'caller-token',
               'HTTP_X_USER_ID': 'caller', 'HTTP_X_PROJECT_ID': 'caller-p',
               'HTTP_X_ROLES': 'admin', 'HTTP_X_SERVICE_USER_ID': 'volmig',
               'HTTP_X_SERVICE_ROLES': 'service'}
    serializer = rpc.ContextSerializer()
    sent = json.loads(json.dumps(serializer.serialize_context(
        context.RequestContext.from_environ(environ))))
    received = serializer.deserialize_context(sent)
    assert (received.auth_token, received.user_id, received.project_id,
            received.is_admin) == ('caller-token', 'caller', 'caller-p', True)
    assert (received.service_user_id, received.service_roles) == (
        'volmig', ['service'])
