"""Client side of the compute service's RPC API.

Version history:

* 1.0 - build/start/stop/reboot/delete (casts), attach/detach volume and
  console output (calls).
* 1.1 - volume migrations: start and complete (calls, they answer once the
  promise holds), cancel (cast).
"""

import oslo_messaging as messaging

from nova_volmig import exception
from volmig_common import rpc

TOPIC = 'compute'
RPC_API_VERSION = '1.1'



class ComputeAPI:
    def __init__(self, conf):
        self._client = rpc.get_client(conf, TOPIC, RPC_API_VERSION,
                                      version_cap=RPC_API_VERSION)

    def _call(self, context, host, method, version='1.0', **kwargs):
        cctxt = self._client.prepare(server=host, version=version)
        try:
            return cctxt.call(context, method, **kwargs)
        except messaging.MessagingTimeout as e:
            raise exception.ComputeUnavailable(reason=str(e)) from e

    def _cast(self, context, host, method, version='1.0', **kwargs):
        cctxt = self._client.prepare(server=host, version=version)
        cctxt.cast(context, method, **kwargs)

    def build_instance(self, context, instance_uuid):
        # No server: whichever compute service takes the message builds
        # the instance and claims it (its host is the scheduler).
        self._cast(context, None, 'build_instance',
                   instance_uuid=instance_uuid)

    def start_instance(self, context, host, instance_uuid):
        self._cast(context, host, 'start_instance',
                   instance_uuid=instance_uuid)

    def stop_instance(self, context, host, instance_uuid):
        self._cast(context, host, 'stop_instance',
                   instance_uuid=instance_uuid)

    def reboot_instance(self, context, host, instance_uuid, hard):
        self._cast(context, host, 'reboot_instance',
                   instance_uuid=instance_uuid, hard=hard)

    def delete_instance(self, context, host, instance_uuid):
        self._cast(context, host, 'delete_instance',
                   instance_uuid=instance_uuid)

    def get_console_output(self, context, host, instance_uuid):
        return self._call(context, host, 'get_console_output',
                          instance_uuid=instance_uuid)

    def attach_volume(self, context, host, instance_uuid, volume_id, tag,
                      delete_on_termination):
        return self._call(context, host, 'attach_volume',
                          instance_uuid=instance_uuid, volume_id=volume_id,
                          tag=tag,
                          delete_on_termination=delete_on_termination)

    def detach_volume(self, context, host, instance_uuid, volume_id):
        return self._call(context, host, 'detach_volume',
                          instance_uuid=instance_uuid, volume_id=volume_id)

    def start_volume_migration(self, context, host, migration_id):
        """Returns once no more writes reach the source (or raises)."""
        return self._call(context, host, 'start_volume_migration',
                          version='1.1', migration_id=migration_id)

    def complete_volume_migration(self, context, host, migration_id):
        """Returns once the source is no longer used (or raises)."""
        return self._call(context, host, 'complete_volume_migration',
                          version='1.1', migration_id=migration_id)

    def cancel_volume_migration(self, context, host, migration_id):
        self._cast(context, host, 'cancel_volume_migration',
                   version='1.1', migration_id=migration_id)
