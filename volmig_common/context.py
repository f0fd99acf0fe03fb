"""Request context shared by both services (API, RPC and workers)."""

from oslo_context import context


class RequestContext(context.RequestContext):
    """oslo.context's context, with admin derived from the roles."""

    def __init__(self, is_admin=None, **kwargs):
        super().__init__(**kwargs)
        if is_admin is None:
            is_admin = 'admin' in (self.roles or [])
        self.is_admin = is_admin

    def to_policy_values(self):
        values = super().to_policy_values()
        values['is_admin'] = self.is_admin
        return values

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('is_admin', values.get('is_admin'))
        return super().from_dict(values, **kwargs)


def get_admin_context():
    """A context for work the service does on its own behalf."""
    return RequestContext(is_admin=True, roles=['admin'], overwrite=False)
