"""Runs a real Keystone on loopback for the functional tests.

Run it with the interpreter of Keystone's own virtualenv (tools/keystone.sh
makes it): ``.venv-keystone/bin/python tools/start-keystone.py STATE_DIR``.

It configures Keystone with SQLite and fernet keys under STATE_DIR,
bootstraps it, serves it on a free port of 127.0.0.1 and creates the
users the tests need:

- ``admin`` (admin role) in project ``admin``;
- ``demo`` (member and reader roles) in project ``demo``;
- ``volmig`` (service role only) in project ``service``: what each
  service uses to call the other.

Passwords are random. Once it serves, STATE_DIR/keystone.json describes
all of this, and the process serves until SIGTERM.
"""

import json
import os
import secrets
import signal
import socketserver
import subprocess
import sys
import threading
from wsgiref import simple_server

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

CONFIG = """\
[DEFAULT]
log_file = {state}/keystone.log

[database]
connection = sqlite:///{state}/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = {state}/fernet-keys

[fernet_receipts]
key_repository = {state}/fernet-keys

[credential]
key_repository = {state}/credential-keys

[identity]
# The fewest bcrypt rounds: these passwords protect nothing.
password_hash_rounds = 4
"""


class _Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


def _manage(state, *args):
    manage = os.path.join(os.path.dirname(sys.executable), 'keystone-manage')
    subprocess.run([manage, '--config-file',
                    os.path.join(state, 'keystone.conf'), *args],
                   check=True, stdout=subprocess.DEVNULL)


def _configure(state, url, admin_password):
    for name in ('fernet-keys', 'credential-keys'):
        os.makedirs(os.path.join(state, name), mode=0o700, exist_ok=True)
    with open(os.path.join(state, 'keystone.conf'), 'w') as f:
        f.write(CONFIG.format(state=state))
    _manage(state, 'db_sync')
    user = str(os.getuid())
    group = str(os.getgid())
    _manage(state, 'fernet_setup', '--keystone-user', user,
            '--keystone-group', group)
    _manage(state, 'credential_setup', '--keystone-user', user,
            '--keystone-group', group)
    _manage(state, 'bootstrap', '--bootstrap-password', admin_password,
            '--bootstrap-admin-url', url, '--bootstrap-public-url', url,
            '--bootstrap-internal-url', url,
            '--bootstrap-region-id', 'RegionOne')


def _create(sess, kind, body):
    """Creates ``body`` in collection ``kind``; returns its id."""
    response = sess.post('/%s' % kind, json={kind[:-1]: body},
                         endpoint_filter={'service_type': 'identity',
                                          'interface': 'public'})
    return response.json()[kind[:-1]]['id']


def _role_id(sess, name):
    roles = sess.get('/roles?name=%s' % name,
                     endpoint_filter={'service_type': 'identity'}).json()
    if roles['roles']:
        return roles['roles'][0]['id']
    return _create(sess, 'roles', {'name': name})


def _grant(sess, project_id, user_id, role):
    sess.put('/projects/%s/users/%s/roles/%s'
             % (project_id, user_id, _role_id(sess, role)),
             endpoint_filter={'service_type': 'identity'})


def _add_users(url, admin_password):
    auth = v3.Password(auth_url=url, username='admin',
                       password=admin_password, project_name='admin',
                       user_domain_id='default', project_domain_id='default')
    sess = ks_session.Session(auth=auth)
    users = {'admin': {'password': admin_password, 'project': 'admin'}}
    for name, project, roles in (('demo', 'demo', ('member', 'reader')),
                                 ('volmig', 'service', ('service',))):
        project_id = _create(sess, 'projects',
                             {'name': project, 'domain_id': 'default'})
        password = secrets.token_hex(16)
        user_id = _create(sess, 'users', {'name': name, 'password': password,
                                          'domain_id': 'default'})
        for role in roles:
            _grant(sess, project_id, user_id, role)
        users[name] = {'password': password, 'project': project}
    return users


def main():
    state = os.path.abspath(sys.argv[1])
    os.makedirs(state, exist_ok=True)
    # The port is bound before bootstrap so that the catalog names it.
    server = _Server(('127.0.0.1', 0), _QuietHandler)
    url = 'http://127.0.0.1:%d/v3' % server.server_port
    admin_password = secrets.token_hex(16)
    _configure(state, url, admin_password)

    os.environ['OS_KEYSTONE_CONFIG_FILES'] = os.path.join(state,
                                                          'keystone.conf')
    # Keystone parses the command line as its own.
    del sys.argv[1:]
    from keystone.server import wsgi
    server.set_app(wsgi.initialize_public_application())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    users = _add_users(url, admin_password)
    described = os.path.join(state, 'keystone.json')
    with open(described + '.tmp', 'w') as f:
        json.dump({'auth_url': url, 'users': users}, f)
    os.rename(described + '.tmp', described)

    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    thread.join()


if __name__ == '__main__':
    main()
