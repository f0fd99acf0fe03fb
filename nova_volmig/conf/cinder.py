"""[cinder]: how the compute services reach the volume API."""

from keystoneauth1 import loading as ks_loading

GROUP = 'cinder'
DEFAULT_ENDPOINT = 'http://127.0.0.1:8776/v3/admin'


def register_opts(conf):
    ks_loading.register_session_conf_options(conf, GROUP)
    ks_loading.register_auth_conf_options(conf, GROUP)
    ks_loading.register_adapter_conf_options(conf, GROUP)
    # The embedded default talks to its own noauth volume API.
    conf.set_default('auth_type', 'none', group=GROUP)
    conf.set_default('service_type', 'block-storage', group=GROUP)
    conf.set_default('endpoint_override', DEFAULT_ENDPOINT, group=GROUP)


def list_opts():
    return [(GROUP,
             ks_loading.get_session_conf_options()
             + ks_loading.get_auth_common_conf_options()
             + ks_loading.get_auth_plugin_conf_options('password')
             + ks_loading.get_adapter_conf_options(include_deprecated=False))]
