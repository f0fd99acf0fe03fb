"""[cinder]: how the compute services reach the volume API."""

from volmig_common import service_client

GROUP = 'cinder'
DEFAULT_ENDPOINT = 'http://127.0.0.1:8776/v3/admin'


def register_opts(conf):
    service_client.register_opts(conf, GROUP, 'block-storage')
    # The embedded default talks to its own noauth volume API.
    conf.set_default('auth_type', 'none', group=GROUP)
    conf.set_default('endpoint_override', DEFAULT_ENDPOINT, group=GROUP)


def list_opts():
    return service_client.list_opts(GROUP)
