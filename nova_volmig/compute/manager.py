"""The compute service: runs what the API asked for on this host.

The API has already claimed the instance with a task_state when a request
arrives here (except builds, claimed by state); each method ends by
clearing that task_state with a compare-and-swap.
"""

import json
import string

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import netutils

from nova_volmig import catalog
from nova_volmig import exception
from nova_volmig.compute import rpcapi
from nova_volmig.compute import states
from nova_volmig.db import api as db
from nova_volmig.virt import driver as virt_driver
from nova_volmig.volume import cinder
from volmig_common import context as volmig_context
from volmig_common import exception as common_exception

LOG = logging.getLogger(__name__)

_DEVICE_NAMES = ['/dev/vd' + letter for letter in string.ascii_lowercase]


def _jsonable(bdm):
    """A block device mapping without its timestamps, to cross RPC."""
    return {key: value for key, value in bdm.items()
            if key not in ('created_at', 'updated_at', 'deleted_at')}


class ComputeManager:
    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, conf, driver=None, volume_api=None):
        self._conf = conf
        self.host = conf.host
        self.driver = driver or virt_driver.load_driver(conf)
        self.volume_api = volume_api or cinder.VolumeAPI(conf)

    def init_host(self):
        self.driver.init_host(self.host)

    # -- instances --------------------------------------------------------

    def build_instance(self, context, instance_uuid):
        claimed = db.instance_update_state(
            context, instance_uuid,
            {'host': None, 'vm_state': states.BUILDING,
             'task_state': states.SCHEDULING},
            {'host': self.host, 'task_state': states.SPAWNING})
        if not claimed:
            LOG.info('Instance %s was deleted or taken before it was '
                     'built', instance_uuid)
            return
        instance = db.instance_get(context, instance_uuid)
        try:
            image = catalog.get_image(self._conf, instance['image_ref'])
            self.driver.spawn(instance, image)
        except Exception:
            LOG.exception('Building instance %s failed', instance_uuid)
            db.instance_update_state(
                context, instance_uuid, {'task_state': states.SPAWNING},
                {'vm_state': states.ERROR, 'task_state': None})
            return
        built = db.instance_update_state(
            context, instance_uuid,
            {'vm_state': states.BUILDING, 'task_state': states.SPAWNING},
            {'vm_state': states.ACTIVE, 'task_state': None,
             'power_state': self.driver.get_power_state(instance)})
        if not built:
            # Deleted while it was being built: do not leave it behind.
            self.driver.destroy(instance)

    def _power_action(self, context, instance_uuid, task_state, vm_state,
                      work):
        instance = db.instance_get(context, instance_uuid)
        values = {}
        try:
            work(instance)
            values['vm_state'] = vm_state
        except common_exception.VolmigException:
            LOG.exception('%s of instance %s failed', task_state,
                          instance_uuid)
        finally:
            values['power_state'] = self.driver.get_power_state(instance)
            db.instance_end_action(context, instance_uuid, task_state,
                                   values)

    def start_instance(self, context, instance_uuid):
        self._power_action(context, instance_uuid, states.POWERING_ON,
                           states.ACTIVE, self.driver.power_on)

    def stop_instance(self, context, instance_uuid):
        timeout = self._conf.compute.shutdown_timeout
        self._power_action(
            context, instance_uuid, states.POWERING_OFF, states.STOPPED,
            lambda instance: self.driver.power_off(instance, timeout))

    def reboot_instance(self, context, instance_uuid, hard):
        timeout = self._conf.compute.shutdown_timeout
        task_state = states.REBOOTING_HARD if hard else states.REBOOTING
        self._power_action(
            context, instance_uuid, task_state, states.ACTIVE,
            lambda instance: self.driver.reboot(instance, hard, timeout))

    def delete_instance(self, context, instance_uuid):
        instance = db.instance_get(context, instance_uuid)
        try:
            self.driver.destroy(instance)
        except common_exception.VolmigException:
            LOG.exception('Deleting instance %s failed', instance_uuid)
            db.instance_end_action(context, instance_uuid, states.DELETING,
                                   {'vm_state': states.ERROR})
            return
        for bdm in db.bdm_get_all(context, instance_uuid):
            self._release_volume(context, bdm)
        db.instance_destroy(context, instance_uuid)

    def _release_volume(self, context, bdm):
        try:
            if bdm['attachment_id']:
                self.volume_api.attachment_delete(bdm['attachment_id'],
                                                  bdm['volume_id'])
            if bdm['delete_on_termination']:
                self.volume_api.delete(bdm['volume_id'])
        except common_exception.VolmigException:
            # The instance is gone either way; the volume service keeps
            # what it could not release.
            LOG.exception('Releasing volume %s failed', bdm['volume_id'])

    @messaging.expected_exceptions(common_exception.VolmigException)
    def get_console_output(self, context, instance_uuid):
        instance = db.instance_get(context, instance_uuid)
        return self.driver.get_console_output(instance)

    # -- volumes ----------------------------------------------------------

    def _connector(self):
        return {'host': self.host, 'ip': netutils.get_my_ipv4(),
                'initiator': None, 'platform': 'x86_64', 'os_type': 'linux',
                'multipath': False}

    def _free_device(self, context, instance_uuid):
        used = {bdm['device_name']
                for bdm in db.bdm_get_all(context, instance_uuid)}
        for name in _DEVICE_NAMES:
            if name not in used:
                return name
        raise exception.NoFreeDevice(instance_id=instance_uuid)

    @messaging.expected_exceptions(common_exception.VolmigException)
    def attach_volume(self, context, instance_uuid, volume_id, tag,
                      delete_on_termination):
        try:
            instance = db.instance_get(context, instance_uuid)
            device_name = self._free_device(context, instance_uuid)
            attachment = self.volume_api.attachment_create(volume_id,
                                                           instance_uuid)
            # Recorded before anything is plugged in, so a crash leaves a
            # trace of the attachment to clean up.
            bdm = db.bdm_create(context, {
                'instance_uuid': instance_uuid, 'volume_id': volume_id,
                'attachment_id': attachment['id'],
                'device_name': device_name, 'tag': tag,
                'delete_on_termination': delete_on_termination})
            self._connect_volume(context, instance, bdm)
            return _jsonable(bdm)
        finally:
            db.instance_end_action(context, instance_uuid,
                                   states.ATTACHING_VOLUME)

    def _connect_volume(self, context, instance, bdm):
        plugged = False
        try:
            attachment = self.volume_api.attachment_update(
                bdm['attachment_id'], bdm['volume_id'], self._connector())
            connection_info = attachment['connection_info']
            db.bdm_update(context, bdm['uuid'],
                          {'connection_info': json.dumps(connection_info)})
            self.driver.attach_volume(instance, connection_info,
                                      bdm['device_name'], bdm['volume_id'])
            plugged = True
            self.volume_api.attachment_complete(bdm['attachment_id'],
                                                bdm['volume_id'])
        except Exception:
            LOG.exception('Attaching volume %s to %s failed',
                          bdm['volume_id'], instance['uuid'])
            if plugged:
                self.driver.detach_volume(instance, bdm['device_name'])
            self.volume_api.attachment_delete(bdm['attachment_id'],
                                              bdm['volume_id'])
            db.bdm_destroy(context, bdm['uuid'])
            raise

    @messaging.expected_exceptions(common_exception.VolmigException)
    def detach_volume(self, context, instance_uuid, volume_id):
        try:
            instance = db.instance_get(context, instance_uuid)
            bdm = db.bdm_get_by_volume(context, instance_uuid, volume_id)
            self.driver.detach_volume(instance, bdm['device_name'])
            if bdm['attachment_id']:
                self.volume_api.attachment_delete(bdm['attachment_id'],
                                                  volume_id)
            db.bdm_destroy(context, bdm['uuid'])
        finally:
            db.instance_end_action(context, instance_uuid,
                                   states.DETACHING_VOLUME)

    # -- periodic ---------------------------------------------------------

    def sync_power_states(self):
        """Records what the hypervisor says about this host's instances.

        An instance that stopped on its own (the guest powered off) becomes
        stopped, as in Nova; instances in the middle of an action are left
        to that action.
        """
        context = volmig_context.get_admin_context()
        for instance in db.instance_get_all(context, host=self.host):
            if (instance['task_state'] is not None
                    or instance['vm_state'] not in (states.ACTIVE,
                                                    states.STOPPED)):
                continue
            power_state = self.driver.get_power_state(instance)
            values = {'power_state': power_state}
            if (instance['vm_state'] == states.ACTIVE
                    and power_state != states.RUNNING):
                values['vm_state'] = states.STOPPED
            if power_state == instance['power_state'] and len(values) == 1:
                continue
            LOG.info('Instance %s: hypervisor says power state %s',
                     instance['uuid'], power_state)
            db.instance_update_state(
                context, instance['uuid'],
                {'task_state': None, 'vm_state': instance['vm_state'],
                 'power_state': instance['power_state']}, values)
