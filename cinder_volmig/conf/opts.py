"""Options listing for oslo-config-generator."""

from cinder_volmig import conf as cinder_conf
from volmig_common import config
from volmig_common import service_client


def list_opts():
    return (config.list_opts(cinder_conf.API_PORT)
            + [(None, cinder_conf.volume_opts),
               ('backend1', cinder_conf.backend_opts('backend1'))]
            + service_client.list_opts(cinder_conf.NOVA_GROUP))
