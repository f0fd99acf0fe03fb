"""The compute API's WSGI application."""

from nova_volmig.api import microversions
from nova_volmig.api import root
from nova_volmig.compute import api as compute_api
from volmig_common import hooks
from volmig_common import wsgi


def build_app(conf, compute=None):
    """The WSGI app; ``compute`` replaces the service layer in tests."""
    compute = compute or compute_api.API(conf)
    return wsgi.make_app(conf, root.RootController(),
                         microversions.VERSIONS,
                         extra_hooks=[hooks.AttributeHook('compute_api',
                                                          compute)])
