"""``volmig-all-in-one``: the embedded default on one machine.

Runs the compute API, the compute service, the volume API and the volume
service in one process: SQLite under a state directory, in-process RPC
(``fake://``), ``noauth``, libvirt with ``virt_type = qemu``. The two
services still talk to each other over real HTTP. Configuration files are
written into the state directory on first start and may be edited there.
"""

import argparse
import os
import socket
import sys
import textwrap

from cinder_volmig import conf as cinder_conf
from cinder_volmig import services as cinder_services
from nova_volmig import conf as nova_conf
from nova_volmig import services as nova_services
from volmig_common import config
from volmig_common import service

NOVA_CONF = textwrap.dedent("""\
    [DEFAULT]
    host = {host}
    state_path = {state}/nova
    auth_strategy = noauth
    transport_url = fake://
    log_file = {state}/log/volmig.log

    [api]
    host = {bind}
    port = {nova_port}

    [database]
    connection = sqlite:///{state}/nova/nova.sqlite

    [compute]
    image_dir = {state}/images

    [libvirt]
    virt_type = qemu

    [cinder]
    auth_type = none
    endpoint_override = http://{bind}:{cinder_port}/v3/admin
    """)

CINDER_CONF = textwrap.dedent("""\
    [DEFAULT]
    host = {host}
    state_path = {state}/cinder
    auth_strategy = noauth
    transport_url = fake://
    log_file = {state}/log/volmig.log
    enabled_backends = {backends}

    [api]
    host = {bind}
    port = {cinder_port}

    [database]
    connection = sqlite:///{state}/cinder/cinder.sqlite

    [nova]
    auth_type = none
    endpoint_override = http://{bind}:{nova_port}/v2.1
    """)

BACKEND_CONF = textwrap.dedent("""\

    [{name}]
    volume_backend_name = {name}
    volumes_dir = {state}/volumes/{name}
    """)


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='volmig-all-in-one',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--state-dir', default=os.environ.get(
        'VOLMIG_STATE_DIR', '/var/lib/volmig'))
    parser.add_argument('--bind', default='127.0.0.1')
    parser.add_argument('--nova-port', type=int, default=8774)
    parser.add_argument('--cinder-port', type=int, default=8776)
    parser.add_argument('--backends', default='backend1,backend2',
                        help='Volume backends to create on first start.')
    return parser.parse_args(argv)


def write_config(args):
    """Writes both services' config files unless they already exist."""
    values = dict(state=os.path.abspath(args.state_dir), bind=args.bind,
                  nova_port=args.nova_port, cinder_port=args.cinder_port,
                  host=socket.gethostname(), backends=args.backends)
    os.makedirs(os.path.join(values['state'], 'log'), exist_ok=True)
    paths = {}
    cinder_text = CINDER_CONF.format(**values) + ''.join(
        BACKEND_CONF.format(name=name, **values)
        for name in args.backends.split(','))
    for name, text in (('nova', NOVA_CONF.format(**values)),
                       ('cinder', cinder_text)):
        paths[name] = os.path.join(values['state'], name + '.conf')
        if not os.path.exists(paths[name]):
            with open(paths[name], 'w') as f:
                f.write(text)
    return paths


def _client_help(nova_url, cinder_url):
    return textwrap.dedent(f"""\
        volmig is running.
          compute API: {nova_url}/v2.1
          volume API:  {cinder_url}/v3
        Clients (noauth: every caller is an admin; the token names the user
        and the project):
          cinder --os-auth-type noauth --os-user-id admin \\
              --os-project-id admin --os-endpoint {cinder_url}/v3 list
          openstack --os-auth-type admin_token --os-token admin:admin \\
              --os-endpoint {cinder_url}/v3/admin \\
              --os-volume-api-version 3 volume list
          curl -H 'OpenStack-API-Version: compute 2.104' \\
              {nova_url}/v2.1/servers
        """)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = write_config(args)
    nova = nova_conf.new_conf()
    config.parse_args(nova, 'nova_volmig', ['--config-file', paths['nova']])
    cinder = cinder_conf.new_conf()
    config.parse_args(cinder, 'cinder_volmig',
                      ['--config-file', paths['cinder']])
    for conf, services in ((cinder, cinder_services), (nova, nova_services)):
        services.db_sync(conf)
        services.init(conf)
    parts = [cinder_services.api_service(cinder),
             cinder_services.worker_service(cinder),
             nova_services.api_service(nova),
             nova_services.worker_service(nova)]
    service.run(parts, on_started=lambda: print(
        _client_help('http://%s:%d' % (args.bind, nova.api.port),
                     'http://%s:%d' % (args.bind, cinder.api.port)),
        flush=True))
    return 0
