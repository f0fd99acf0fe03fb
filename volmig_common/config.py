"""Options every volmig service has, and loading a service's config."""

import os
import socket
import sys

from oslo_config import cfg
from oslo_log import log as logging

from volmig_common import auth
from volmig_common import db

# Where pbr installs the services' etc/ files (setup.cfg data_files), and
# the source tree's etc/, which a development checkout runs from.
_INSTALLED_ETC = os.path.join(sys.prefix, 'etc')
_SOURCE_ETC = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'etc')


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

paste_opts = [
    cfg.StrOpt('api_paste_config', default='api-paste.ini',
               help='The API\'s PasteDeploy file (its WSGI pipelines). A '
                    'path, or a name looked up next to the config files '
                    'and in oslo.config\'s standard directories, then in '
                    'the copy installed with the service.'),
]


class PasteConfigNotFound(cfg.Error):
    def __init__(self, name, searched):
        super().__init__('api_paste_config %s not found next to the config '
                         'files, in the standard config directories, nor in '
                         '%s' % (name, ' or '.join(searched)))


def register_opts(conf, api_port):
    """Registers the shared options on a service's own ConfigOpts."""
    conf.register_opts(service_opts)
    conf.register_opts(auth.auth_opts)
    conf.register_opts(paste_opts)
    conf.register_opts(api_opts(api_port), group='api')
    db.register_opts(conf)
    logging.register_options(conf)


def list_opts(api_port):
    return [(None, service_opts + auth.auth_opts + paste_opts),
            ('api', api_opts(api_port))]


def parse_args(conf, project, argv, default_config_files=None):
    """Parses command-line and config files into ``conf`` and sets up logs."""
    conf(argv, project=project, default_config_files=default_config_files)
    logging.setup(conf, project)


def parse_environ(conf, project):
    """Loads a WSGI application's config files: those that
    ``OS_<PROJECT>_CONFIG_FILES`` names (';'-separated), else oslo.config's
    default ones. A WSGI server gives the application no command line."""
    files = os.environ.get('OS_%s_CONFIG_FILES' % project.upper())
    parse_args(conf, project, [],
               default_config_files=files.split(';') if files else None)


def find_paste_config(conf):
    """The path of the API's paste file (``api_paste_config``)."""
    name = conf.api_paste_config
    path = conf.find_file(name)
    if path:
        return path
    searched = [os.path.join(etc, conf.project)
                for etc in (_INSTALLED_ETC, _SOURCE_ETC)]
    for directory in searched:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    raise PasteConfigNotFound(name, searched)
