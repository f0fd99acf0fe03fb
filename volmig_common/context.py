"""Request context shared by both services (API, RPC and workers)."""

from oslo_context import context

# Who vouched for the caller with a service token (keystonemiddleware
# sets them once it validated one): carried over RPC, and in the values a
# log format (logging_user_identity_format) may name.
_SERVICE_KEYS = ('service_user_id', 'service_project_id', 'service_roles')


class RequestContext(context.RequestContext):
    """oslo.context's context, with admin derived from the roles."""

    FROM_DICT_EXTRA_KEYS = _SERVICE_KEYS

    def __init__(self, is_admin=None, **kwargs):
        super().__init__(**kwargs)
        if is_admin is None:
            is_admin = 'admin' in (self.roles or [])
        self.is_admin = is_admin

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values

    def to_dict(self):
        values = super().to_dict()
        values.update((key, getattr(self, key)) for key in _SERVICE_KEYS)
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('is_admin', values.get('is_admin'))
        return super().from_dict(values, **kwargs)


def get_admin_context():
    """A context for work the service does on its own behalf."""
    return RequestContext(is_admin=True, roles=['admin'], overwrite=False)
