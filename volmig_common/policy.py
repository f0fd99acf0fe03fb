"""oslo.policy plumbing: an enforcer per service and one authorize call."""

from oslo_policy import policy

from volmig_common import exception

# Personas, as Nova and Cinder name them.
ADMIN = 'role:admin'
SERVICE = 'role:service'
ADMIN_OR_SERVICE = 'role:admin or role:service'
PROJECT_MEMBER_OR_ADMIN = ('role:admin or '
                           '(role:member and project_id:%(project_id)s)')
PROJECT_READER_OR_ADMIN = ('role:admin or '
                           '(role:reader and project_id:%(project_id)s)')


def new_enforcer(conf, rules):
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(rules)
    return enforcer


def authorize(enforcer, context, rule, target=None):
    """Raises Forbidden (403) unless ``context`` may do ``rule``."""
    target = target or {'project_id': context.project_id}
    enforcer.authorize(rule, target, context, do_raise=True,
                       exc=exception.Forbidden)
