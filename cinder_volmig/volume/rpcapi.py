"""Client side of the volume service's RPC API.

Version history:

* 1.0 - create_volume, delete_volume (casts); initialize_connection,
  terminate_connection (calls).
* 1.1 - migrate_volume (cast to the source); create_migration_destination,
  get_local_path, delete_migration_destination (calls to the destination).
"""

from volmig_common import rpc

TOPIC = 'cinder-volume'


def service_host(volume_host):
    """``host@backend`` of a ``host@backend#pool`` volume host."""
    return volume_host.partition('#')[0]


class VolumeAPI:
    RPC_API_VERSION = '1.1'

    def __init__(self, conf):
        self.client = rpc.get_client(conf, TOPIC, self.RPC_API_VERSION,
                                     version_cap=self.RPC_API_VERSION)

    def _prepare(self, volume, version='1.0', timeout=None):
        return self.client.prepare(server=service_host(volume.host),
                                   version=version, timeout=timeout)

    def create_volume(self, ctxt, volume):
        self._prepare(volume).cast(ctxt, 'create_volume',
                                   volume_id=volume.id)

    def delete_volume(self, ctxt, volume):
        self._prepare(volume).cast(ctxt, 'delete_volume',
                                   volume_id=volume.id)

    def initialize_connection(self, ctxt, volume, connector):
        return self._prepare(volume).call(ctxt, 'initialize_connection',
                                          volume_id=volume.id,
                                          connector=connector)

    def terminate_connection(self, ctxt, volume, connector):
        return self._prepare(volume).call(ctxt, 'terminate_connection',
                                          volume_id=volume.id,
                                          connector=connector)

    def migrate_volume(self, ctxt, volume, migration_id):
        self._prepare(volume, '1.1').cast(ctxt, 'migrate_volume',
                                          migration_id=migration_id)

    def create_migration_destination(self, ctxt, volume, timeout=None):
        """Creates the destination's data; returns once it exists."""
        self._prepare(volume, '1.1', timeout).call(
            ctxt, 'create_migration_destination', volume_id=volume.id)

    def get_local_path(self, ctxt, volume):
        """Where the volume's host reaches its data, to copy it."""
        return self._prepare(volume, '1.1').call(ctxt, 'get_local_path',
                                                 volume_id=volume.id)

    def delete_migration_destination(self, ctxt, volume, timeout=None):
        self._prepare(volume, '1.1', timeout).call(
            ctxt, 'delete_migration_destination', volume_id=volume.id)
