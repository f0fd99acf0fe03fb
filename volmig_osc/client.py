"""HTTP access to the two APIs, through the client manager's session."""

from keystoneauth1 import adapter
from osc_lib import exceptions

from volmig_common import migration_contract as contract

COMPUTE_VERSION = contract.MICROVERSION
VOLUME_VERSION = '3.72'


def _error(response):
    """The message of the APIs' JSON error body, or the bare status."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and len(body) == 1:
        error = next(iter(body.values()))
        if isinstance(error, dict) and error.get('message'):
            return error['message']
    return response.reason or str(response.status_code)


class Client:
    """The compute and volume endpoints of one openstackclient run."""

    def __init__(self, instance):
        self._instance = instance
        self._compute = None
        self._volume = None

    def _adapter(self, service_types, version):
        # The session carries the auth plugin (Keystone or admin_token);
        # an endpoint override (or, without a catalog, the auth
        # plugin's own endpoint) wins over the catalog.
        instance = self._instance
        for service_type in service_types:
            endpoint = instance.get_endpoint_for_service_type(
                service_type, region_name=instance.region_name,
                interface=instance.interface)
            if endpoint:
                break
        else:
            raise exceptions.CommandError(
                'no %s endpoint in the catalog and no override'
                % service_types[0])
        return adapter.Adapter(
            instance.session, service_type=service_types[0],
            endpoint_override=endpoint.rstrip('/'),
            default_microversion=version, raise_exc=False)

    @property
    def compute(self):
        if self._compute is None:
            self._compute = self._adapter(('compute',), COMPUTE_VERSION)
        return self._compute

    @property
    def volume(self):
        if self._volume is None:
            self._volume = self._adapter(
                ('block-storage', 'volumev3', 'volume'), VOLUME_VERSION)
        return self._volume

    @staticmethod
    def _json(response, expected, key=None):
        if response.status_code != expected:
            raise exceptions.CommandError(
                'HTTP %d: %s' % (response.status_code, _error(response)))
        return response.json()[key] if key else None

    # os-volume-migrations (compute API at COMPUTE_VERSION)

    def list_migrations(self, **filters):
        params = {k: v for k, v in filters.items() if v is not None}
        return self._json(self.compute.get('/os-volume-migrations',
                                           params=params),
                          200, 'volume_migrations')

    def show_migration(self, attachment_id):
        return self._json(self.compute.get('/os-volume-migrations/%s'
                                           % attachment_id),
                          200, 'volume_migration')

    def start_migration(self, attachment_id):
        return self._json(self.compute.post(
            '/os-volume-migrations',
            json={'volume_migration': {'attachment_id': attachment_id}}),
            200, 'volume_migration')

    def complete_migration(self, attachment_id, new_attachment_id):
        return self._json(self.compute.post(
            '/os-volume-migrations/%s/action' % attachment_id,
            json={contract.COMPLETE: {
                'new_attachment_id': new_attachment_id}}),
            200, 'volume_migration')

    def cancel_migration(self, attachment_id):
        self._json(self.compute.post(
            '/os-volume-migrations/%s/action' % attachment_id,
            json={contract.CANCEL: None}), 202)

    # Volumes (volume 3.72)

    def find_volume(self, name_or_id):
        response = self.volume.get('/volumes/%s' % name_or_id)
        if response.status_code == 200:
            return response.json()['volume']
        if response.status_code not in (400, 404):
            self._json(response, 200)
        matches = self._json(self.volume.get(
            '/volumes/detail', params={'name': name_or_id}), 200, 'volumes')
        if len(matches) != 1:
            raise exceptions.CommandError(
                '%s volumes named %s' % (len(matches) or 'no', name_or_id))
        return matches[0]

    def show_volume(self, volume_id):
        return self._json(self.volume.get('/volumes/%s' % volume_id),
                          200, 'volume')
