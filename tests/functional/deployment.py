"""The embedded default as a real process, and a small client for tests.

The launcher runs in its own process, so every request a test makes, and
every call between the two services, goes over real HTTP on loopback.
"""

import contextlib
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from xml.etree import ElementTree

import requests

from tests.functional import guest_records
from tests.functional import guests
from volmig_aio import launcher

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
COMPUTE_VERSION = '2.104'
FULL_BACKEND = 'full'
MIGRATION_VERSION = '2.105'
VOLUME_VERSION = '3.71'
# Every wait of the harness is multiplied by this: raise it on a machine
# slower or busier than the one the defaults were measured on.
TIMEOUT_SCALE = float(os.environ.get('VOLMIG_TEST_TIMEOUT_SCALE', '1'))


# Deployments that booted servers not deleted yet.
_BOOTED_IN = set()


def delete_every_guest():
    """Deletes the servers of every deployment: what a test booted dies
    with it."""
    while _BOOTED_IN:
        _BOOTED_IN.pop().delete_guests()


def uuid4():
    return str(uuid.uuid4())


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def scaled(seconds):
    """A harness timeout of ``seconds`` on the reference machine."""
    return seconds * TIMEOUT_SCALE


def wait_for(predicate, timeout, what, interval=0.2):
    """Polls ``predicate`` until it returns something truthy; ``timeout``
    is scaled."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError('timed out after %ss waiting for %s'
                                 % (timeout, what))
        time.sleep(interval)


def terminate(process, timeout=30):
    """SIGTERM, as an init system stops a service; SIGKILL if it lingers."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(scaled(timeout))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def domain_exists(name):
    return subprocess.run(['virsh', 'dominfo', name],
                          capture_output=True).returncode == 0


def remove_domain(name):
    """Destroys and undefines a libvirt domain, if it exists."""
    subprocess.run(['virsh', 'destroy', name], capture_output=True)
    subprocess.run(['virsh', 'undefine', name], capture_output=True)


def run_tool(name, *args):
    result = subprocess.run([os.path.join(REPO, 'tools', name), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    if result.returncode:
        raise RuntimeError('tools/%s failed (%d):\n%s'
                           % (name, result.returncode, result.stdout))


@contextlib.contextmanager
def deployment_for_migrations(state_dir, image_dir, slow_bandwidth,
                              nova_conf=None):
    """A started deployment for Cinder-driven migrations.

    Besides backend1, backend2 copies at ``slow_bandwidth`` bytes/s (so a
    copy under way can be seen), and backend ``full`` sits on a 1 MiB
    tmpfs: any copy to it fails with ENOSPC.
    """
    full_dir = os.path.join(state_dir, 'volumes', FULL_BACKEND)
    os.makedirs(full_dir)
    subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'volmig-full',
                    full_dir], check=True)
    deploy = Deployment(
        state_dir, image_dir,
        backends=('backend1', 'backend2', FULL_BACKEND), nova_conf=nova_conf,
        cinder_conf={'backend2': {'migration_bandwidth_limit':
                                  slow_bandwidth}})
    try:
        with deploy:
            yield deploy
    finally:
        subprocess.run(['umount', full_dir], check=False)


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
                                    headers=headers, timeout=scaled(120),
                                    **kwargs)

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

    def __init__(self, state_dir, image_dir, nova_conf=None,
                 cinder_conf=None, backends=('backend1', 'backend2')):
        self.state_dir = state_dir
        self.image_dir = image_dir
        # Extra {section: {option: value}} for each service's file.
        self.extra_conf = {'nova': nova_conf or {},
                           'cinder': cinder_conf or {}}
        self.backends = backends
        self.nova_port = free_port()
        self.cinder_port = free_port()
        self.process = None
        # server id -> guests.Slot, for every server booted and not deleted
        self._guests = {}
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

    def __enter__(self):
        """Started; stopped again if starting fails."""
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self):
        images = os.path.join(self.state_dir, 'images')
        os.makedirs(images, exist_ok=True)
        guest = os.path.join(images, 'volmig-guest')
        if not os.path.exists(guest):
            shutil.copytree(self.image_dir, guest)
        args = ['--state-dir', self.state_dir,
                '--nova-port', str(self.nova_port),
                '--cinder-port', str(self.cinder_port),
                '--backends', ','.join(self.backends)]
        paths = launcher.write_config(launcher.parse_args(args))
        for service, sections in self.extra_conf.items():
            with open(paths[service], 'a') as f:
                for section, options in sections.items():
                    f.write('\n[%s]\n' % section)
                    f.writelines('%s = %s\n' % kv for kv in options.items())
        self._args = args
        self._launch()

    def _launch(self):
        self._stdout = open(os.path.join(self.state_dir, 'stdout.log'), 'a')
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable),
                          'volmig-all-in-one')] + self._args,
            stdout=self._stdout, stderr=subprocess.STDOUT)
        wait_for(self._ready, 120, 'both APIs to answer')

    def kill(self):
        """``kill -9``: every service of the embedded default dies at once;
        the guests, children of libvirtd, keep running."""
        self.process.kill()
        self.process.wait()
        self._stdout.close()

    def restart(self):
        self._launch()

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError('volmig-all-in-one exited with %s:\n%s'
                                 % (self.process.returncode, self.log_tail()))
        return self._apis_answer()

    def _apis_answer(self):
        # A first answer can be slow on a busy machine: ask again.
        try:
            return all(requests.get(url, timeout=scaled(10)).status_code < 500
                       for url in ('http://127.0.0.1:%d/' % self.nova_port,
                                   'http://127.0.0.1:%d/' % self.cinder_port))
        except requests.RequestException:
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
        self.delete_guests()
        terminate(self.process)
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
                remove_domain(name)

    def delete_guests(self):
        """Deletes every server booted through this deployment: through the
        API when it answers, and in libvirt whatever the API did, so that
        no guest outlives the test that booted it."""
        while self._guests:
            server_id, slot = self._guests.popitem()
            name = 'volmig-' + server_id
            try:
                response = self.compute.delete('/servers/%s' % server_id)
                if response.status_code == 204:
                    wait_for(lambda name=name: not domain_exists(name), 60,
                             'server %s to be deleted' % server_id)
            except (requests.RequestException, AssertionError):
                pass  # a killed, busy or broken deployment: libvirt does it
            remove_domain(name)
            slot.release()

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
        """Boots a test guest, deleted again by ``delete_guests``."""
        image = self.compute.get('/images').json()['images'][0]['id']
        slot = guests.Slot()
        try:
            response = self.compute.post('/servers', {'server': {
                'name': name, 'imageRef': image, 'flavorRef': 'm1.tiny'}})
            assert response.status_code == 202, response.text
        except BaseException:
            slot.release()
            raise
        self._guests[response.json()['server']['id']] = slot
        _BOOTED_IN.add(self)
        server = self.wait_server(response.json()['server']['id'], 'ACTIVE')
        wait_for(lambda: 'VOLMIG-GUEST READY' in self.console(server['id']),
                 120, 'the guest to boot')
        return server

    def _cli(self, name, args, env):
        env = dict(os.environ, **env)
        for key in ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_CLOUD'):
            env.pop(key, None)
        return subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), name), *args],
            env=env, capture_output=True, text=True, timeout=120)

    def cinder_cli(self, *args, check=True):
        """The unchanged python-cinderclient CLI, noauth as admin."""
        result = self._cli('cinder', args, {
            'OS_AUTH_TYPE': 'noauth', 'OS_USER_ID': 'admin',
            'OS_PROJECT_ID': 'admin', 'CINDER_ENDPOINT': self.cinder_endpoint})
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def openstack_cli(self, *args, check=True):
        """The unchanged openstackclient; noauth's token names the user
        and the project, as with cinderclient."""
        result = self._cli('openstack', args, {
            'OS_AUTH_TYPE': 'admin_token', 'OS_TOKEN': 'admin:admin',
            'OS_ENDPOINT': self.volume.base, 'OS_VOLUME_API_VERSION': '3'})
        if check:
            assert result.returncode == 0, result.stderr
        return result

    def console_file(self, server_id):
        return os.path.join(self.state_dir, 'nova', 'instances', server_id,
                            'console.log')

    def overlays(self, server_id):
        """The migration overlays of a server (named after it)."""
        path = os.path.join(self.state_dir, 'nova', 'instances',
                            'volume-migration-overlays')
        names = os.listdir(path) if os.path.isdir(path) else []
        return sorted(name for name in names if name.startswith(server_id))

    def disk_source(self, server_id, target='vda', inactive=False):
        """The file a server's disk uses, per libvirt (live or persistent)."""
        args = ['virsh', 'dumpxml', 'volmig-' + server_id]
        if inactive:
            args.append('--inactive')
        xml = subprocess.run(args, capture_output=True, text=True,
                             check=True).stdout
        for disk in ElementTree.fromstring(xml).findall('./devices/disk'):
            if disk.find('target').get('dev') == target:
                return disk.find('source').get('file')
        return None

    def wait_disk_source(self, server_id, path, timeout=120):
        """Waits until the live and the persistent definition both use
        ``path``: once Cinder is done, Nova may still be committing."""
        wait_for(lambda: (self.disk_source(server_id) == path
                          and self.disk_source(server_id, inactive=True)
                          == path), timeout, 'the disk to use %s' % path)

    def attach(self, server_id, volume_id):
        """Attaches a volume; returns (attachment id, volume file)."""
        response = self.compute.post(
            '/servers/%s/os-volume_attachments' % server_id,
            {'volumeAttachment': {'volumeId': volume_id}}, version='2.89')
        assert response.status_code == 200, response.text
        attachment_id = response.json()['volumeAttachment']['attachment_id']
        self.wait_volume(volume_id, 'in-use')
        return attachment_id, self.attachment_path(attachment_id)

    def volume_path(self, volume):
        """Where the file backend keeps a volume (what Cinder would know)."""
        backend = volume['os-vol-host-attr:host'].split('@')[1].split('#')[0]
        name = volume.get('os-vol-mig-status-attr:name_id') or volume['id']
        return os.path.join(self.backend_dir(backend), 'volume-%s' % name)

    def backend_dir(self, backend):
        configured = self.extra_conf['cinder'].get(backend, {})
        return configured.get('volumes_dir') or os.path.join(
            self.state_dir, 'volumes', backend)

    def volume_host(self, backend):
        """``host@backend`` of one of the volume services."""
        services = self.volume.get('/os-services').json()['services']
        return next(s['host'] for s in services
                    if s['host'].endswith('@' + backend))

    def attachment_path(self, attachment_id):
        response = self.volume.get('/attachments/%s' % attachment_id)
        assert response.status_code == 200, response.text
        info = response.json()['attachment']['connection_info']
        return info['data']['device_path']

    def wait_acks(self, server_id, count, timeout=180):
        """Waits until the guest's current boot acknowledged ``count``
        more writes than it had; returns the new total."""
        def acks():
            with open(self.console_file(server_id), errors='replace') as f:
                return guest_records.count_acks(
                    guest_records.last_boot(f.read()))
        target = acks() + count
        wait_for(lambda: acks() >= target, timeout,
                 '%d more acknowledged writes' % count)
        return acks()

    # The os-volume-migrations API (compute 2.105).

    def migration_action(self, attachment_id, body):
        return self.compute.post(
            '/os-volume-migrations/%s/action' % attachment_id, body,
            version=MIGRATION_VERSION)

    def start_migration(self, attachment_id):
        return self.compute.post(
            '/os-volume-migrations',
            {'volume_migration': {'attachment_id': attachment_id}},
            version=MIGRATION_VERSION)

    def complete_migration(self, attachment_id, new_attachment_id):
        return self.migration_action(attachment_id, {
            'complete': {'new_attachment_id': new_attachment_id}})

    def cancel_migration(self, attachment_id):
        return self.migration_action(attachment_id, {'cancel': None})

    def migration(self, attachment_id):
        response = self.compute.get('/os-volume-migrations/%s'
                                    % attachment_id,
                                    version=MIGRATION_VERSION)
        assert response.status_code == 200, response.text
        return response.json()['volume_migration']

    def wait_migration(self, attachment_id, status, timeout=120):
        def check():
            migration = self.migration(attachment_id)
            if migration['status'] == 'error' and status != 'error':
                raise AssertionError('migration failed: %s' % migration)
            return migration if migration['status'] == status else None
        return wait_for(check, timeout, 'migration of %s to be %s'
                        % (attachment_id, status))

    def new_attachment(self, volume_id, server_id):
        """What Cinder does first: a reserved attachment of the
        destination for the same server."""
        response = self.volume.post('/attachments', {'attachment': {
            'volume_uuid': volume_id, 'instance_uuid': server_id}},
            version='3.44')
        assert response.status_code == 200, response.text
        return response.json()['attachment']['id']

    def console(self, server_id):
        response = self.compute.post('/servers/%s/action' % server_id,
                                     {'os-getConsoleOutput': {'length': None}})
        assert response.status_code == 200, response.text
        return response.json()['output']


class WritingGuest:
    """A running test guest writing to an attached volume of ``backend``
    (any when None)."""

    def __init__(self, d, name, backend=None):
        self.d = d
        self.server = d.boot_server(name)['id']
        fields = {} if backend is None else {'volume_type': backend}
        self.volume = d.create_volume(size=1, **fields)
        self.attachment, self.path = d.attach(self.server, self.volume['id'])
        d.wait_acks(self.server, 100)

    def task_state(self):
        server = self.d.compute.get('/servers/%s' % self.server).json()
        return server['server']['OS-EXT-STS:task_state']

    def detach_and_verify(self, path):
        """Detaches the volume (no write can land after) and checks that
        every acknowledged record of this boot is in ``path``."""
        response = self.d.compute.delete(
            '/servers/%s/os-volume_attachments/%s'
            % (self.server, self.volume['id']))
        assert response.status_code == 202, response.text
        console = guest_records.last_boot(self.d.console(self.server))
        assert guest_records.verify_volume(path, console) == []
        return guest_records.count_acks(console)


class AckMonitor:
    """Watches a guest's console and times the gaps between its ACKs.

    Reads the console file directly, often, so a pause of the guest's
    writes shows as a gap between two consecutive new ACKs.
    """

    def __init__(self, console_path, interval=0.01):
        self._path = console_path
        self._interval = interval
        self._changes = []  # monotonic times at which the ACK count rose
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        last = None
        while not self._stop.is_set():
            with open(self._path, 'rb') as f:
                count = f.read().count(b'ACK ')
            if count != last:
                self._changes.append(time.monotonic())
                last = count
            self._stop.wait(self._interval)

    def longest_gap(self, start, end):
        """The longest time without a new ACK that overlaps [start, end]."""
        changes = list(self._changes)
        gaps = [b - a for a, b in itertools.pairwise(changes)
                if b >= start and a <= end]
        return max(gaps, default=0.0)
