"""HTTP calls from one service to the other, with keystoneauth1.

Each service names a config group ([cinder] in Nova, [nova] in Cinder)
holding keystoneauth1's session, auth and adapter options; requests carry
the microversion they were written for.

A call made for a user's request carries that user's token, and the
service user's token as a service token (``X-Service-Token``), as Nova and
Cinder send them: the other service acts for the user, and a user token
that expires during a long operation is still accepted beside a valid
service token. Work the service does on its own behalf (no token in its
context) authenticates as the service user alone.
"""

from keystoneauth1 import identity
from keystoneauth1 import loading as ks_loading
from keystoneauth1 import plugin
from keystoneauth1 import service_token


def register_opts(conf, group, service_type):
    ks_loading.register_session_conf_options(conf, group)
    ks_loading.register_auth_conf_options(conf, group)
    ks_loading.register_adapter_conf_options(conf, group)
    conf.set_default('service_type', service_type, group=group)


def list_opts(group):
    return [(group,
             ks_loading.get_session_conf_options()
             + ks_loading.get_auth_common_conf_options()
             + ks_loading.get_auth_plugin_conf_options('password')
             + ks_loading.get_adapter_conf_options(include_deprecated=False))]


class _CallerAuth(plugin.BaseAuthPlugin):
    """The token of the request's caller; the service's own auth finds
    where to send it. ``%(project_id)s`` in an endpoint names the
    caller's project."""

    def __init__(self, context, service_auth):
        super().__init__()
        self._context = context
        self._service_auth = service_auth

    def get_token(self, session):
        return self._context.auth_token

    def get_user_id(self, session):
        return self._context.user_id

    def get_project_id(self, session):
        return self._context.project_id

    def get_endpoint(self, session, **kwargs):
        return self._service_auth.get_endpoint(session, **kwargs)

    def get_endpoint_data(self, session, **kwargs):
        return self._service_auth.get_endpoint_data(session, **kwargs)


class ServiceClient:
    """Requests to the other service, for a request context."""

    def __init__(self, conf, group, api_version):
        self._auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(
            conf, group, auth=self._auth)
        self._adapter = ks_loading.load_adapter_from_conf_options(
            conf, group, session=session, auth=self._auth)
        self._headers = {'OpenStack-API-Version': api_version}

    def _auth_for(self, context):
        """The caller's token with the service token beside it, or the
        service user's alone.

        Only a service user authenticated by Keystone has a token that the
        other side's auth_token can validate; without one (``auth_type =
        none``, the noauth deployments) the caller's token is not sent.
        """
        if context.auth_token and isinstance(self._auth,
                                             identity.BaseIdentityPlugin):
            return service_token.ServiceTokenAuthWrapper(
                _CallerAuth(context, self._auth), self._auth)
        return self._auth

    def request(self, context, method, url, body=None):
        """The decoded JSON answer (None when empty); keystoneauth1's
        exceptions for errors, for the caller to give them meaning."""
        response = self._adapter.request(url, method, json=body,
                                         headers=self._headers,
                                         auth=self._auth_for(context))
        return response.json() if response.content else None
