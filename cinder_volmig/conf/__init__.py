"""Configuration of cinder_volmig: every option on one fresh ConfigOpts."""

from oslo_config import cfg

from volmig_common import config
from volmig_common import rpc
from volmig_common import service_client

API_PORT = 8776
CONTROL_EXCHANGE = 'cinder_volmig'
NOVA_GROUP = 'nova'

volume_opts = [
    cfg.ListOpt('enabled_backends', default=['backend1'],
                help='Config sections of the backends this volume service '
                     'serves; each becomes its own ``host@section`` '
                     'service.'),
    cfg.IntOpt('report_interval', default=10, min=1,
               help='Seconds between two heartbeats of a volume service.'),
    cfg.IntOpt('service_down_time', default=60, min=1,
               help='Seconds without a heartbeat after which a volume '
                    'service counts as down.'),
    cfg.StrOpt('storage_availability_zone', default='nova',
               help='Availability zone of the volumes this service '
                    'creates.'),
    cfg.IntOpt('migration_bandwidth_limit', default=0, min=0,
               help='Bytes per second one volume migration may copy; 0 '
                    'means unlimited. A backend section may override it.'),
    cfg.IntOpt('max_concurrent_migrations', default=2, min=1,
               help='Migrations each backend\'s volume service copies at '
                    'the same time; more wait in "starting".'),
]


def backend_opts(section):
    """Options of one ``enabled_backends`` section."""
    return [
        cfg.StrOpt('volume_backend_name', default=section,
                   help='Name the scheduler and volume types know this '
                        'backend by; also its pool name.'),
        cfg.StrOpt('volume_driver', default='file',
                   help='Driver of this backend.'),
        cfg.StrOpt('volumes_dir',
                   default='$state_path/volumes/%s' % section,
                   help='Directory of the volume files (file driver).'),
        cfg.IntOpt('migration_bandwidth_limit', min=0,
                   help='Bytes per second one migration from this backend '
                        'may copy; 0 means unlimited; unset takes '
                        '[DEFAULT] migration_bandwidth_limit.'),
    ]


def register_backend_opts(conf, section):
    """Backend sections are named by enabled_backends, so known late."""
    conf.register_opts(backend_opts(section), group=section)
    return conf[section]


def register_nova_opts(conf):
    """How this service reaches Nova (used by volume migration)."""
    service_client.register_opts(conf, NOVA_GROUP, 'compute')


def new_conf():
    conf = cfg.ConfigOpts()
    config.register_opts(conf, api_port=API_PORT)
    conf.register_opts(volume_opts)
    register_nova_opts(conf)
    rpc.register_opts(conf, CONTROL_EXCHANGE, 'cinder_volmig.exception')
    return conf
