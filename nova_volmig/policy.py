"""The compute API's policy enforcer."""

import threading

from nova_volmig import conf as nova_conf
from nova_volmig import policies
from volmig_common import exception
from volmig_common import policy

# One enforcer per service configuration (the embedded default runs
# services of several configurations in one process).
_enforcers = {}
_lock = threading.Lock()


def get_enforcer():
    """An enforcer with the defaults, for the oslopolicy-* tools."""
    conf = nova_conf.new_conf()
    conf([], project='nova_volmig')
    return policy.new_enforcer(conf, policies.list_rules())


def _enforcer(conf):
    with _lock:
        enforcer = _enforcers.get(id(conf))
        if enforcer is None:
            enforcer = policy.new_enforcer(conf, policies.list_rules())
            _enforcers[id(conf)] = enforcer
        return enforcer


def authorize(conf, context, rule, target=None):
    """Raises Forbidden (403) unless ``context`` may do ``rule``."""
    policy.authorize(_enforcer(conf), context, rule, target)


def check(conf, context, rule, target=None):
    """Whether ``context`` may do ``rule``, without raising."""
    try:
        authorize(conf, context, rule, target)
    except exception.Forbidden:
        return False
    return True
