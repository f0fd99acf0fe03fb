"""The volume API's WSGI application."""

from cinder_volmig import policy
from cinder_volmig.api.controllers import root
from cinder_volmig.volume import api as volume_api
from volmig_common import hooks
from volmig_common import wsgi


def build_app(conf):
    extra_hooks = [
        hooks.AttributeHook('volume_api', volume_api.API(conf)),
        hooks.AttributeHook('enforcer', policy.get_enforcer(conf)),
    ]
    return wsgi.make_app(conf, root.RootController(), root.VERSIONS,
                         extra_hooks=extra_hooks)
