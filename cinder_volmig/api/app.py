"""The volume API's WSGI application."""

from cinder_volmig import policy
from cinder_volmig.api.controllers import root
from cinder_volmig.volume import api as volume_api
from volmig_common import hooks
from volmig_common import wsgi

# The composite of etc/cinder_volmig/api-paste.ini.
PASTE_APP = 'osapi_volume'


def app_factory(global_conf, **local_conf):
    """``paste.app_factory``: the volume API without its middleware."""
    conf = global_conf[wsgi.CONF_KEY]
    extra_hooks = [
        hooks.AttributeHook('volume_api', volume_api.API(conf)),
        hooks.AttributeHook('enforcer', policy.get_enforcer(conf)),
    ]
    return wsgi.make_app(conf, root.RootController(), root.VERSIONS,
                         extra_hooks=extra_hooks)


def load_app(conf):
    """The volume API behind the pipeline ``auth_strategy`` names."""
    return wsgi.load_app(conf, PASTE_APP)
