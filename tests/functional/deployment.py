"""The embedded default as a real process, and a small client for tests.

The launcher runs in its own process, so every request a test makes, and
every call between the two services, goes over real HTTP on loopback.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
COMPUTE_VERSION = '2.104'
VOLUME_VERSION = '3.71'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.2):
    """Polls ``predicate`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


def run_tool(name, *args):
    subprocess.run([os.path.join(REPO, 'tools', name), *args], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


class APIClient:
    """Requests against one API, with its microversion header."""

    def __init__(self, base, service_type, version):
        self.base = base
        self.service_type = service_type
        self.version = version
        self.session = requests.Session()

    def request(self, method, path, version=None, **kwargs):
        headers = kwargs.pop('headers', {})
        headers.setdefault('OpenStack-API-Version', '%s %s' % (
            self.service_type, version or self.version))
        return self.session.request(method, self.base + path,
                                    headers=headers, timeout=120, **kwargs)

    def get(self, path, **kwargs):
        return self.request('GET', path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request('POST', path, json=body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request('PUT', path, json=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request('DELETE', path, **kwargs)


class Deployment:
    """``volmig-all-in-one`` with its state in ``state_dir``."""

    def __init__(self, state_dir, image_dir):
        self.state_dir = state_dir
        self.image_dir = image_dir
        self.nova_port = free_port()
        self.cinder_port = free_port()
        self.process = None
        self.compute = APIClient('http://127.0.0.1:%d/v2.1' % self.nova_port,
                                 'compute', COMPUTE_VERSION)
        self.volume = APIClient(
            'http://127.0.0.1:%d/v3/admin' % self.cinder_port,
            'volume', VOLUME_VERSION)

    @property
    def cinder_endpoint(self):
        return 'http://127.0.0.1:%d/v3' % self.cinder_port

    @property
    def log_path(self):
        return os.path.join(self.state_dir, 'log', 'volmig.log')

    def start(self):
        images = os.path.join(self.state_dir, 'images')
        os.makedirs(images, exist_ok=True)
        guest = os.path.join(images, 'volmig-guest')
        if not os.path.exists(guest):
            shutil.copytree(self.image_dir, guest)
        launcher = os.path.join(os.path.dirname(sys.executable),
                                'volmig-all-in-one')
        self._stdout = open(os.path.join(self.state_dir, 'stdout.log'), 'w')
        self.process = subprocess.Popen(
            [launcher, '--state-dir', self.state_dir,
             '--nova-port', str(self.nova_port),
             '--cinder-port', str(self.cinder_port)],
            stdout=self._stdout, stderr=subprocess.STDOUT)
        wait_for(self._ready, 120, 'both APIs to answer')

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError('volmig-all-in-one exited with %s:\n%s'
                                 % (self.process.returncode, self.log_tail()))
        try:
            return all(requests.get(url, timeout=2).status_code < 500
                       for url in ('http://127.0.0.1:%d/' % self.nova_port,
                                   'http://127.0.0.1:%d/' % self.cinder_port))
        except requests.ConnectionError:
            return False

    def log_tail(self, lines=60):
        try:
            with open(self.log_path) as f:
                return ''.join(f.readlines()[-lines:])
        except OSError:
            return '(no log)'

    def stop(self):
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._stdout.close()
        self._destroy_leftover_domains()

    def _destroy_leftover_domains(self):
        """Removes guests a failed test left behind (they use our files)."""
        names = subprocess.run(['virsh', '-q', 'list', '--all', '--name'],
                               capture_output=True, text=True).stdout.split()
        for name in names:
            xml = subprocess.run(['virsh', 'dumpxml', name],
                                 capture_output=True, text=True).stdout
            if self.state_dir in xml:
                subprocess.run(['virsh', 'destroy', name],
                               capture_output=True)
                subprocess.run(['virsh', 'undefine', name],
                               capture_output=True)

    # Helpers for the steps every scenario takes.

    def wait_volume(self, volume_id, status, timeout=60):
        def check():
            volume = self.volume.get('/volumes/%s' % volume_id).json()
            volume = volume['volume']
            assert volume['status'] != 'error', volume
            return volume if volume['status'] == status else None
        return wait_for(check, timeout, 'volume %s to be %s'
                        % (volume_id, status))

    def create_volume(self, size=1, **fields):
        response = self.volume.post('/volumes', {'volume': dict(
            size=size, **fields)})
        assert response.status_code == 202, response.text
        return self.wait_volume(response.json()['volume']['id'], 'available')

    def wait_server(self, server_id, status, timeout=120):
        def check():
            server = self.compute.get('/servers/%s' % server_id).json()
            server = server['server']
            assert server['status'] != 'ERROR', server
            if (server['status'] == status
                    and not server['OS-EXT-STS:task_state']):
                return server
            return None
        return wait_for(check, timeout, 'server %s to be %s'
                        % (server_id, status))

    def boot_server(self, name='guest'):
        image = self.compute.get('/images').json()['images'][0]['id']
        response = self.compute.post('/servers', {'server': {
            'name': name, 'imageRef': image, 'flavorRef': 'm1.tiny'}})
        assert response.status_code == 202, response.text
        server = self.wait_server(response.json()['server']['id'], 'ACTIVE')
        wait_for(lambda: 'VOLMIG-GUEST READY' in self.console(server['id']),
                 120, 'the guest to boot')
        return server

    def console(self, server_id):
        response = self.compute.post('/servers/%s/action' % server_id,
                                     {'os-getConsoleOutput': {'length': None}})
        assert response.status_code == 200, response.text
        return response.json()['output']
