"""Client side of the volume service's RPC API.

Version history:

* 1.0 - create_volume, delete_volume (casts); initialize_connection,
  terminate_connection (calls).
"""

from volmig_common import rpc

TOPIC = 'cinder-volume'


def service_host(volume_host):
    """``host@backend`` of a ``host@backend#pool`` volume host."""
    return volume_host.partition('#')[0]


class VolumeAPI:
    RPC_API_VERSION = '1.0'

    def __init__(self, conf):
        self.client = rpc.get_client(conf, TOPIC, self.RPC_API_VERSION,
                                     version_cap=self.RPC_API_VERSION)

    def _prepare(self, volume):
        return self.client.prepare(server=service_host(volume.host),
                                   version='1.0')

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
