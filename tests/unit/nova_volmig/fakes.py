"""Fakes of the two things outside nova_volmig: the hypervisor and Cinder."""

import uuid

from nova_volmig import exception
from nova_volmig.compute import states
from nova_volmig.virt import driver


class FakeDriver(driver.ComputeDriver):
    capabilities = {'supports_live_volume_migration': True}

    def __init__(self):
        self.power = {}
        self.disks = {}
        self.console = {}
        self.fail_attach = False

    def spawn(self, instance, image):
        self.power[instance['uuid']] = states.RUNNING
        self.disks[instance['uuid']] = {}
        self.console[instance['uuid']] = 'boot\nVOLMIG-GUEST READY\n'

    def power_off(self, instance, timeout):
        self.power[instance['uuid']] = states.SHUTDOWN

    def power_on(self, instance):
        self.power[instance['uuid']] = states.RUNNING

    def reboot(self, instance, hard, timeout):
        self.power[instance['uuid']] = states.RUNNING

    def destroy(self, instance):
        self.power.pop(instance['uuid'], None)
        self.disks.pop(instance['uuid'], None)

    def get_power_state(self, instance):
        return self.power.get(instance['uuid'], states.NOSTATE)

    def get_console_output(self, instance):
        return self.console.get(instance['uuid'], '')

    def attach_volume(self, instance, connection_info, device_name,
                      volume_id):
        if self.fail_attach:
            raise exception.HypervisorError(reason='attach refused')
        self.disks[instance['uuid']][device_name] = connection_info

    def detach_volume(self, instance, device_name):
        self.disks[instance['uuid']].pop(device_name)


class FakeVolumeAPI:
    """Cinder's attachments API, in memory, recording every call."""

    def __init__(self):
        self.volumes = {}
        self.attachments = {}
        self.calls = []

    def add_volume(self, status='available'):
        volume_id = str(uuid.uuid4())
        self.volumes[volume_id] = {'id': volume_id, 'status': status,
                                   'multiattach': False}
        return volume_id

    def _volume(self, volume_id):
        if volume_id not in self.volumes:
            raise exception.VolumeNotFound(volume_id=volume_id)
        return self.volumes[volume_id]

    def get(self, context, volume_id):
        return dict(self._volume(volume_id))

    def delete(self, context, volume_id):
        self.calls.append(('delete', volume_id))
        del self.volumes[volume_id]

    def attachment_create(self, context, volume_id, instance_uuid):
        self.calls.append(('create', volume_id))
        self._volume(volume_id)['status'] = 'reserved'
        attachment = {'id': str(uuid.uuid4()), 'volume_id': volume_id,
                      'instance': instance_uuid}
        self.attachments[attachment['id']] = attachment
        return attachment

    def attachment_update(self, context, attachment_id, volume_id, connector):
        self.calls.append(('update', connector['host']))
        attachment = self.attachments[attachment_id]
        attachment['connection_info'] = {
            'driver_volume_type': 'file',
            'data': {'device_path': '/volumes/' + volume_id,
                     'format': 'raw'}}
        return attachment

    def attachment_complete(self, context, attachment_id, volume_id):
        self.calls.append(('complete', attachment_id))
        self._volume(volume_id)['status'] = 'in-use'

    def attachment_delete(self, context, attachment_id, volume_id):
        self.calls.append(('delete_attachment', attachment_id))
        del self.attachments[attachment_id]
        self._volume(volume_id)['status'] = 'available'
