"""nova_volmig's configuration: every option of every service part."""

from oslo_config import cfg

from nova_volmig.conf import cinder
from nova_volmig.conf import compute
from nova_volmig.conf import libvirt
from volmig_common import config
from volmig_common import rpc

API_PORT = 8774



def new_conf():
    conf = cfg.ConfigOpts()
    config.register_opts(conf, api_port=API_PORT)
    compute.register_opts(conf)
    libvirt.register_opts(conf)
    cinder.register_opts(conf)
    rpc.register_opts(conf, 'nova_volmig', 'nova_volmig.exception')
    return conf
