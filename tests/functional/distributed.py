"""The services as separate processes, the way operators run them.

Each service runs from its console script with its own config file: the
compute API and the compute service share ``nova.conf``; the volume API
and one volume service per backend (each its own ``host``) have a file
each. RPC goes over the RabbitMQ of this machine, in a virtual host of
their own, so that deployments running at the same time never share a
queue; each service's database is a fresh one on MariaDB or PostgreSQL,
migrated by its ``*-manage db sync``.
"""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import sqlalchemy

from cinder_volmig.volume import rpcapi as volume_rpcapi
from nova_volmig.compute import rpcapi as compute_rpcapi
from tests.functional import deployment
from volmig_aio import launcher

SERVERS = {
    'mariadb': 'mysql+pymysql://root@127.0.0.1/',
    'postgresql': 'postgresql+psycopg2://postgres@127.0.0.1/',
}
COMPUTE_HOST = 'compute1'
# Each has a database of its own.
PROJECTS = ('nova', 'cinder')

# Fast heartbeats, so that a stopped volume service shows 'down' soon.
COMMON_CONF = textwrap.dedent("""\
    [DEFAULT]
    host = {host}
    state_path = {state}/{project}
    auth_strategy = noauth
    transport_url = {transport_url}
    log_file = {state}/log/{name}.log
    report_interval = 1
    service_down_time = 5
    {defaults}
    [database]
    connection = {connection}
    """)


def _rabbitmqctl(*args):
    subprocess.run(['rabbitmqctl', *args], check=True, capture_output=True,
                   timeout=60)


def create_vhost(vhost):
    """A RabbitMQ virtual host of its own, for the ``guest`` user."""
    _rabbitmqctl('add_vhost', vhost)
    _rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')


def delete_vhost(vhost):
    """Deletes ``vhost`` with its queues, if it exists."""
    subprocess.run(['rabbitmqctl', 'delete_vhost', vhost],
                   capture_output=True, timeout=60)


def rpc_servers_ready(vhost, compute_host, volume_hosts):
    """Whether the compute service of ``compute_host`` and the volume
    services ``volume_hosts`` (``host@backend``) consume their queues of
    ``vhost``: a cast to a queue nobody declared yet would be dropped."""
    out = subprocess.run(
        ['rabbitmqctl', '-q', 'list_queues', '-p', vhost,
         'name', 'consumers'], capture_output=True, text=True,
        timeout=60).stdout
    rows = (line.split() for line in out.splitlines())
    consumed = {row[0] for row in rows
                if len(row) == 2 and row[1].isdigit() and int(row[1])}
    wanted = {compute_rpcapi.TOPIC,
              '%s.%s' % (compute_rpcapi.TOPIC, compute_host)}
    wanted.update('%s.%s' % (volume_rpcapi.TOPIC, host)
                  for host in volume_hosts)
    return wanted <= consumed


def drop_databases(server_url, names):
    """Drops the databases ``names`` of ``server_url`` that exist."""
    engine = sqlalchemy.create_engine(server_url,
                                      isolation_level='AUTOCOMMIT')
    with engine.connect() as connection:
        for name in names:
            connection.exec_driver_sql('DROP DATABASE IF EXISTS %s' % name)
    engine.dispose()


def log_tails(paths, lines=30):
    """The last ``lines`` of the log of each service of ``paths``
    (name: path), one after the other."""
    tails = []
    for name, path in paths.items():
        try:
            with open(path) as f:
                tail = ''.join(f.readlines()[-lines:])
        except OSError:
            tail = '(no log)\n'
        tails.append('==> %s <==\n%s' % (name, tail))
    return ''.join(tails)


def _launcher_section(text, name):
    """One section of the embedded default's config text."""
    start = text.index('[%s]' % name)
    end = text.find('\n[', start)
    return '\n' + text[start:None if end < 0 else end + 1]


def _bin(name):
    return os.path.join(os.path.dirname(sys.executable), name)


class DistributedDeployment(deployment.Deployment):
    """nova-volmig-api, nova-volmig-compute, cinder-volmig-api and one
    cinder-volmig-volume per backend, as separate processes."""

    def __init__(self, state_dir, image_dir, database='mariadb',
                 nova_conf=None, cinder_conf=None,
                 backends=('backend1', 'backend2')):
        super().__init__(state_dir, image_dir, nova_conf=nova_conf,
                         cinder_conf=cinder_conf, backends=backends)
        self.name = 'volmig_%s' % uuid.uuid4().hex[:12]
        self.server_url = SERVERS[database]
        self.vhost = self.name
        self.transport_url = 'rabbit://guest:guest@127.0.0.1:5672/%s' % (
            self.vhost)
        # service name -> [command, process, output file]
        self.services = {}

    def volume_service_host(self, backend):
        """The ``host`` of the volume process serving ``backend``."""
        return 'volume-%s' % backend

    # Set-up

    def _create_databases(self):
        engine = sqlalchemy.create_engine(self.server_url,
                                          isolation_level='AUTOCOMMIT')
        with engine.connect() as connection:
            for project in PROJECTS:
                connection.exec_driver_sql(
                    'CREATE DATABASE %s_%s' % (self.name, project))
        engine.dispose()

    def _write_conf(self, name, project, host, text, defaults=''):
        values = dict(
            name=name, project=project, host=host, defaults=defaults,
            state=self.state_dir, transport_url=self.transport_url,
            connection='%s%s_%s' % (self.server_url, self.name, project),
            bind='127.0.0.1', nova_port=self.nova_port,
            cinder_port=self.cinder_port)
        path = os.path.join(self.state_dir, name + '.conf')
        with open(path, 'w') as f:
            f.write(COMMON_CONF.format(**values))
            f.write(text.format(**values))
            for section, options in self.extra_conf[project].items():
                f.write('\n[%s]\n' % section)
                f.writelines('%s = %s\n' % kv for kv in options.items())
        return path

    def _write_confs(self):
        """The [api], [compute], [libvirt], [nova] and [cinder] sections
        as the embedded default has them; what differs per process
        (DEFAULT, database) comes from COMMON_CONF."""
        nova = ''.join(_launcher_section(launcher.NOVA_CONF, s)
                       for s in ('api', 'compute', 'libvirt', 'cinder'))
        cinder_api = ''.join(_launcher_section(launcher.CINDER_CONF, s)
                             for s in ('api', 'nova'))
        confs = {
            name: self._write_conf(name, 'nova', COMPUTE_HOST, nova)
            for name in ('nova-api', 'nova-compute')}
        confs['cinder-api'] = self._write_conf('cinder-api', 'cinder', 'api',
                                               cinder_api)
        for backend in self.backends:
            name = 'cinder-volume-' + backend
            confs[name] = self._write_conf(
                name, 'cinder', self.volume_service_host(backend),
                _launcher_section(launcher.CINDER_CONF, 'nova')
                + launcher.BACKEND_CONF.format(name=backend,
                                               state=self.state_dir),
                defaults='enabled_backends = %s\n' % backend)
        return confs

    def start(self):
        os.makedirs(os.path.join(self.state_dir, 'log'), exist_ok=True)
        images = os.path.join(self.state_dir, 'images')
        guest = os.path.join(images, 'volmig-guest')
        if not os.path.exists(guest):
            os.makedirs(images, exist_ok=True)
            shutil.copytree(self.image_dir, guest)
        create_vhost(self.vhost)
        self._create_databases()
        confs = self._write_confs()
        for tool, conf in (('nova-volmig-manage', confs['nova-api']),
                           ('cinder-volmig-manage', confs['cinder-api'])):
            subprocess.run([_bin(tool), '--config-file', conf, 'db', 'sync'],
                           check=True, capture_output=True, timeout=120)
        scripts = {'nova-api': 'nova-volmig-api',
                   'nova-compute': 'nova-volmig-compute',
                   'cinder-api': 'cinder-volmig-api'}
        for name, conf in confs.items():
            script = scripts.get(name, 'cinder-volmig-volume')
            self.services[name] = [
                [_bin(script), '--config-file', conf], None, None]
            self.start_service(name)
        deployment.wait_for(self._ready, 120, 'every service to be ready')

    def start_service(self, name):
        service = self.services[name]
        service[2] = open(os.path.join(self.state_dir, 'log',
                                       name + '.out'), 'a')
        service[1] = subprocess.Popen(service[0], stdout=service[2],
                                      stderr=subprocess.STDOUT)

    def stop_service(self, *names):
        """SIGTERM, as an init system stops a service; all at once."""
        running = [self.services[name] for name in names
                   if self.services[name][1] is not None]
        for _, process, _ in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for service in running:
            try:
                service[1].wait(max(0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service[1].kill()
                service[1].wait()
            service[2].close()
            service[1] = None

    def _ready(self):
        for name, (_, process, _) in self.services.items():
            if process.poll() is not None:
                raise AssertionError('%s exited with %s:\n%s' % (
                    name, process.returncode, self.log_tail()))
        return self._apis_answer() and rpc_servers_ready(
            self.vhost, COMPUTE_HOST,
            ['%s@%s' % (self.volume_service_host(backend), backend)
             for backend in self.backends])

    def log_tail(self, lines=30):
        return log_tails({name: os.path.join(self.state_dir, 'log',
                                             name + '.log')
                          for name in self.services}, lines)

    def kill(self):
        raise NotImplementedError('stop_service() one service instead')

    def restart(self):
        raise NotImplementedError('start_service() one service instead')

    def stop(self):
        try:
            self.delete_guests()
            self.stop_service(*self.services)
            self._destroy_leftover_domains()
        finally:
            delete_vhost(self.vhost)
            drop_databases(self.server_url, ['%s_%s' % (self.name, project)
                                             for project in PROJECTS])

    def service_state(self, host):
        """``up`` or ``down``, as os-services tells it."""
        services = self.volume.get('/os-services').json()['services']
        return next(s['state'] for s in services if s['host'] == host)


def restart_rabbitmq(pause):
    """Stops the RabbitMQ application for ``pause`` seconds; the node
    and its definitions (virtual hosts, users) stay."""
    _rabbitmqctl('stop_app')
    try:
        time.sleep(pause)
    finally:
        _rabbitmqctl('start_app')
