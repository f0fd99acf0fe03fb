"""The compute API's WSGI application."""

from nova_volmig.api import microversions
from nova_volmig.api import root
from nova_volmig.compute import api as compute_api
from volmig_common import hooks
from volmig_common import wsgi

# The composite of etc/nova_volmig/api-paste.ini.
PASTE_APP = 'osapi_compute'


def app_factory(global_conf, **local_conf):
    """``paste.app_factory``: the compute API without its middleware."""
    conf = global_conf[wsgi.CONF_KEY]
    compute = compute_api.API(conf)
    return wsgi.make_app(conf, root.RootController(),
                         microversions.VERSIONS,
                         extra_hooks=[hooks.AttributeHook('compute_api',
                                                          compute)])


def load_app(conf):
    """The compute API behind the pipeline ``auth_strategy`` names."""
    return wsgi.load_app(conf, PASTE_APP)
