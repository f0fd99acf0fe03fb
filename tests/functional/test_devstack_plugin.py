"""The devstack plugin, run the way devstack runs it.

Real devstack cannot run here: the plugin runs against a stand-in of the
devstack functions it calls (``devstack/functions`` beside this file), on
this machine's MariaDB and RabbitMQ, with ``noauth``. Its configuration
must bring up the four services, and volumes must migrate between its two
backends, detached and under a running guest (whose migration goes
through the client sections the plugin writes, [cinder] and [nova]);
``unstack`` and ``clean`` must undo it all.
"""

import configparser
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import distributed
from tests.functional import volumes

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'devstack', 'functions')
# The phases stack.sh runs plugins for, in its order.
STACK_PHASES = ('pre-install', 'install', 'post-config', 'extra',
                'test-config')
# What init_volmig creates, before the stand-in's prefix.
DATABASES = ('volmig_nova', 'volmig_cinder')
# An unprivileged user, as devstack's stack user is.
STACK_USER = 'nobody'
# run_process name -> (console script, its config file, user it runs as).
SERVICES = {
    'vm-napi': ('nova-volmig-api', 'nova.conf', STACK_USER),
    'vm-ncpu': ('nova-volmig-compute', 'nova.conf', 'root'),
    'vm-capi': ('cinder-volmig-api', 'cinder.conf', STACK_USER),
    'vm-cvol': ('cinder-volmig-volume', 'cinder.conf', 'root'),
}
BACKENDS = ('backend1', 'backend2')


class DevstackDeployment(deployment_mod.Deployment):
    """The four services as the devstack plugin configures and starts
    them, in a directory ``base`` standing for the machine's ``/etc`` and
    devstack's ``DEST``."""

    def __init__(self, base):
        self.dest = os.path.join(base, 'dest')
        # The plugin's default, under devstack's DATA_DIR.
        super().__init__(os.path.join(self.dest, 'data', 'volmig'),
                         image_dir=None, backends=BACKENDS)
        self.conf_dir = os.path.join(base, 'etc', 'volmig')
        # The stand-in's SERVICE_DIR (pid files) and LOGDIR, by default.
        self.status_dir = os.path.join(self.dest, 'status')
        self.log_dir = os.path.join(self.dest, 'logs')
        name = 'volmig_devstack_%s' % uuid.uuid4().hex[:12]
        self.vhost = name
        self.database_prefix = name + '_'
        venv_bin = os.path.dirname(sys.executable)
        # local.conf's part: the plugin's variables and devstack's. PATH
        # lacks the virtualenv's bin/, as devstack's does.
        self.env = dict(
            PATH=os.pathsep.join(
                p for p in os.environ['PATH'].split(os.pathsep)
                if p and os.path.realpath(p) != os.path.realpath(venv_bin)),
            DEST=self.dest,
            STACK_USER=STACK_USER,
            DEVSTACK_VENV=sys.prefix,
            # devstack's default kvm needs hardware virtualization that
            # test machines may lack.
            LIBVIRT_TYPE='qemu',
            DATABASE_NAME_PREFIX=self.database_prefix,
            RABBIT_VHOST=self.vhost,
            VOLMIG_AUTH_STRATEGY='noauth',
            VOLMIG_CONF_DIR=self.conf_dir,
            VOLMIG_NOVA_PORT=str(self.nova_port),
            VOLMIG_CINDER_PORT=str(self.cinder_port),
        )
        self.host = socket.gethostname()

    def run(self, *runs):
        """One run of a devstack script: the stand-in, the plugin's
        settings, then ``plugin.sh MODE [PHASE]`` for each of ``runs``."""
        plugin = os.path.join(deployment_mod.REPO, 'devstack')
        script = ['set -o errexit -o xtrace',
                  'source %s' % STANDIN,
                  'source %s/settings' % plugin]
        script += ['source %s/plugin.sh %s' % (plugin, run) for run in runs]
        result = subprocess.run(
            ['bash', '-c', '\n'.join(script)], env=self.env,
            capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, '%s failed:\n%s%s' % (
            runs, result.stderr[-6000:], self.log_tail())

    def start(self):
        # What devstack's "enable_plugin volmig" checks the project out to.
        os.makedirs(self.dest)
        os.symlink(deployment_mod.REPO, os.path.join(self.dest, 'volmig'))
        distributed.create_vhost(self.vhost)
        self.run(*('stack ' + phase for phase in STACK_PHASES))
        deployment_mod.wait_for(self._ready, 120, 'every service to be ready')

    def pid(self, service):
        """The pid that run_process recorded, None when there is none."""
        try:
            with open(os.path.join(self.status_dir, service + '.pid')) as f:
                return int(f.read())
        except FileNotFoundError:
            return None

    def _ready(self):
        for service in SERVICES:
            if process_user(self.pid(service)) is None:
                raise AssertionError('%s is not running:\n%s' % (
                    service, self.log_tail()))
        return self._apis_answer() and distributed.rpc_servers_ready(
            self.vhost, self.host,
            ['%s@%s' % (self.host, backend) for backend in self.backends])

    def log_tail(self, lines=30):
        return distributed.log_tails(
            {service: os.path.join(self.log_dir, service + '.log')
             for service in SERVICES}, lines)

    def stop(self):
        """What a failed test leaves: unstack and clean, as devstack's
        scripts do, and this test's broker and databases."""
        try:
            self.delete_guests()
            self.run('unstack', 'clean')
        finally:
            # What a broken unstack left running.
            for pid in map(self.pid, SERVICES):
                if process_user(pid) is not None:
                    os.killpg(pid, signal.SIGKILL)
            self._destroy_leftover_domains()
            distributed.delete_vhost(self.vhost)
            distributed.drop_databases(
                distributed.SERVERS['mariadb'],
                [self.database_prefix + name for name in DATABASES])


def process_user(pid):
    """The user a running process runs as; None if there is none (a
    zombie has ended: this machine's init reaps orphans late)."""
    if pid is None:
        return None
    try:
        with open('/proc/%d/stat' % pid) as f:
            # The state follows the command name, which may hold spaces.
            if f.read().rpartition(')')[2].split()[0] == 'Z':
                return None
        return pwd.getpwuid(os.stat('/proc/%d' % pid).st_uid).pw_name
    except FileNotFoundError:
        return None


def read_conf(path):
    conf = configparser.ConfigParser(interpolation=None)
    assert conf.read(path) == [path]
    return conf


@pytest.fixture
def devstack(libvirtd):
    if not shutil.which('sudo'):
        pytest.fail('sudo missing: tools/install.sh test installs it')
    base = tempfile.mkdtemp(prefix='volmig-devstack-')
    # The stack user reaches its files through this.
    os.chmod(base, 0o755)
    d = DevstackDeployment(base)
    try:
        d.start()
        yield d
    finally:
        try:
            d.stop()
        finally:
            shutil.rmtree(base)


def test_stack_migrate_unstack_clean(devstack):
    d = devstack
    for service, (script, conf, user) in SERVICES.items():
        pid = d.pid(service)
        assert process_user(pid) == user, service
        with open('/proc/%d/cmdline' % pid) as f:
            command = f.read().rstrip('\0').split('\0')
        # After the interpreter of the script's "#!" line.
        assert command[1:] == [os.path.join(sys.prefix, 'bin', script),
                               '--config-file',
                               os.path.join(d.conf_dir, conf)], service

    # Every option got a value: no devstack variable was missing.
    for project in ('nova', 'cinder'):
        conf = read_conf(os.path.join(d.conf_dir, project + '.conf'))
        for section in ['DEFAULT', *conf.sections()]:
            for option, value in conf.items(section):
                assert value, '%s.conf [%s] %s' % (project, section, option)
        assert conf['database']['connection'].split('/')[-1] == (
            '%svolmig_%s?charset=utf8' % (d.database_prefix, project))

    # The compute API sees the guest image the plugin built.
    response = d.compute.get('/images')
    assert response.status_code == 200, response.text
    assert [i['name'] for i in response.json()['images']] == ['volmig-guest']

    services = d.volume.get('/os-services').json()['services']
    assert sorted((s['binary'], s['host'], s['state'])
                  for s in services) == [
        ('cinder-volume', '%s@%s' % (d.host, backend), 'up')
        for backend in BACKENDS]

    # Two volumes to backend2: one detached, one a guest writes to.
    detached = d.create_volume(size=1, volume_type='backend1')
    source = d.volume_path(detached)
    volumes.fill(source, 4)
    digest = volumes.digest(source)
    g = deployment_mod.WritingGuest(d, 'devstack', 'backend1')
    for volume_id in (detached['id'], g.volume['id']):
        response = d.volume.post('/volumes/%s/action' % volume_id, {
            'os-migrate_volume': {'host': d.volume_host('backend2')}})
        assert response.status_code == 202, response.text

    volume = volumes.wait_migrated(d, detached['id'])
    assert volume['migration_status'] == 'success', volume
    assert volume['os-vol-host-attr:host'].startswith(
        d.volume_host('backend2'))
    assert not os.path.exists(source)
    assert volumes.digest(d.volume_path(volume)) == digest

    volumes.wait_migrated(d, g.volume['id'])
    d.wait_acks(g.server, 100)  # still writing, now to backend2
    g.detach_and_verify(volumes.assert_moved(d, g, 'backend2'))
    d.wait_volume(g.volume['id'], 'available')
    response = d.compute.delete('/servers/%s' % g.server)
    assert response.status_code == 204, response.text
    deployment_mod.wait_for(
        lambda: d.compute.get('/servers/%s' % g.server).status_code == 404,
        60, 'the server to be deleted')

    pids = [d.pid(service) for service in SERVICES]
    d.run('unstack')
    assert [process_user(pid) for pid in pids] == [None] * len(pids)
    assert [d.pid(service) for service in SERVICES] == [None] * len(pids)

    d.run('clean')
    assert not os.path.exists(d.conf_dir)
    assert not os.path.exists(d.state_dir)
