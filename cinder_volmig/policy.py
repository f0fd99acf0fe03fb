"""cinder_volmig's policy enforcer."""

from cinder_volmig import conf as cinder_conf
from cinder_volmig import policies
from volmig_common import exception
from volmig_common import policy


def get_enforcer(conf=None):
    """An enforcer with the default rules; oslopolicy tools call it with
    no arguments."""
    if conf is None:
        conf = cinder_conf.new_conf()
        conf([], project='cinder_volmig')
    return policy.new_enforcer(conf, policies.list_rules())


def authorize(enforcer, context, rule, target=None):
    policy.authorize(enforcer, context, rule, target)


def check(enforcer, context, rule):
    """Whether ``context`` may do ``rule``, without raising."""
    try:
        policy.authorize(enforcer, context, rule)
    except exception.Forbidden:
        return False
    return True
