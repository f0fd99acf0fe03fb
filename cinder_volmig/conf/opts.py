"""Options listing for oslo-config-generator."""

from keystoneauth1 import loading as ks_loading

from cinder_volmig import conf as cinder_conf
from volmig_common import config


def list_opts():
    nova_opts = (ks_loading.get_session_conf_options()
                 + ks_loading.get_auth_common_conf_options()
                 + ks_loading.get_adapter_conf_options())
    return (config.list_opts(cinder_conf.API_PORT)
            + [(None, cinder_conf.volume_opts),
               ('backend1', cinder_conf.backend_opts('backend1')),
               (cinder_conf.NOVA_GROUP, nova_opts)])
