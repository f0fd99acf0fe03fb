"""Options every volmig service has, and loading a service's config."""

import socket

from oslo_config import cfg
from oslo_log import log as logging

from volmig_common import auth
from volmig_common import db


def api_opts(default_port):
    return [
        cfg.HostAddressOpt('host', default='0.0.0.0',
                           help='Address the API listens on.'),
        cfg.PortOpt('port', default=default_port,
                    help='Port the API listens on.'),
    ]


service_opts = [
    cfg.StrOpt('host', default=socket.gethostname(),
               sample_default='<hostname>',
               help='Name of this host as other services know it.'),
    cfg.StrOpt('state_path', default='/var/lib/volmig',
               help='Directory for the service\'s state files.'),
]


def register_opts(conf, api_port):
    """Registers the shared options on a service's own ConfigOpts."""
    conf.register_opts(service_opts)
    conf.register_opts(auth.auth_opts)
    conf.register_opts(api_opts(api_port), group='api')
    db.register_opts(conf)
    logging.register_options(conf)


def list_opts(api_port):
    return [(None, service_opts + auth.auth_opts), ('api', api_opts(api_port))]


def parse_args(conf, project, argv, default_config_files=None):
    """Parses command-line and config files into ``conf`` and sets up logs."""
    conf(argv, project=project, default_config_files=default_config_files)
    logging.setup(conf, project)
