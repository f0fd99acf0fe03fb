"""Options of nova_volmig for oslo-config-generator."""

from nova_volmig.conf import API_PORT
from nova_volmig.conf import cinder
from nova_volmig.conf import compute
from nova_volmig.conf import libvirt
from volmig_common import config


def list_opts():
    return (config.list_opts(API_PORT) + compute.list_opts()
            + libvirt.list_opts() + cinder.list_opts())
