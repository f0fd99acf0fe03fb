"""HTTP calls from one service to the other, with keystoneauth1.

Each service names a config group ([cinder] in Nova, [nova] in Cinder)
holding keystoneauth1's session, auth and adapter options; requests carry
the microversion they were written for.
"""

from keystoneauth1 import loading as ks_loading


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


class ServiceClient:
    """Requests to the other service, authenticated as this service."""

    def __init__(self, conf, group, api_version):
        auth = ks_loading.load_auth_from_conf_options(conf, group)
        session = ks_loading.load_session_from_conf_options(conf, group,
                                                            auth=auth)
        self._adapter = ks_loading.load_adapter_from_conf_options(
            conf, group, session=session, auth=auth)
        self._headers = {'OpenStack-API-Version': api_version}

    def request(self, method, url, body=None):
        """The decoded JSON answer (None when empty); keystoneauth1's
        exceptions for errors, for the caller to give them meaning."""
        response = self._adapter.request(url, method, json=body,
                                         headers=self._headers)
        return response.json() if response.content else None
