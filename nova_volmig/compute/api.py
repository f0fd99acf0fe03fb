"""The compute API's service layer: checks, state claims, RPC.

Controllers stay thin: they check policy, validate shapes and call this.
"""

from nova_volmig import catalog
from nova_volmig import exception
from nova_volmig.compute import rpcapi
from nova_volmig.compute import states
from nova_volmig.db import api as db
from nova_volmig.volume import cinder


class API:
    def __init__(self, conf, compute_rpcapi=None, volume_api=None):
        self._conf = conf
        self.compute_rpcapi = compute_rpcapi or rpcapi.ComputeAPI(conf)
        self.volume_api = volume_api or cinder.VolumeAPI(conf)

    # -- servers ----------------------------------------------------------

    def get(self, context, instance_uuid):
        """The instance, if ``context`` may see it; 404 otherwise."""
        instance = db.instance_get(context, instance_uuid)
        if not context.is_admin and (instance['project_id']
                                     != context.project_id):
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return instance

    def get_all(self, context, all_tenants=False):
        project_id = None
        if not (context.is_admin and all_tenants):
            project_id = context.project_id
        return db.instance_get_all(context, project_id=project_id)

    def create(self, context, name, image_ref, flavor_ref):
        try:
            image = catalog.get_image(self._conf, image_ref)
        except exception.ImageNotFound:
            raise exception.InvalidImageRef(image_id=image_ref) from None
        try:
            flavor = catalog.get_flavor(self._conf, flavor_ref)
        except exception.FlavorNotFound:
            raise exception.InvalidFlavorRef(flavor_id=flavor_ref) from None
        instance = db.instance_create(context, {
            'name': name, 'project_id': context.project_id,
            'user_id': context.user_id, 'image_ref': image['id'],
            'flavor_name': flavor['name'], 'memory_mb': flavor['ram'],
            'vcpus': flavor['vcpus'], 'vm_state': states.BUILDING,
            'task_state': states.SCHEDULING})
        self.compute_rpcapi.build_instance(context, instance['uuid'])
        return instance

    def delete(self, context, instance_uuid):
        instance = self.get(context, instance_uuid)
        instance = db.instance_begin_action(context, instance_uuid,
                                            'delete')
        if instance['host'] is None:
            # Never reached a compute service: nothing to tear down.
            db.instance_destroy(context, instance_uuid)
            return
        self.compute_rpcapi.delete_instance(context, instance['host'],
                                            instance_uuid)

    def start(self, context, instance_uuid):
        instance = self.get(context, instance_uuid)
        db.instance_begin_action(context, instance_uuid, 'start')
        self.compute_rpcapi.start_instance(context, instance['host'],
                                           instance_uuid)

    def stop(self, context, instance_uuid):
        instance = self.get(context, instance_uuid)
        db.instance_begin_action(context, instance_uuid, 'stop')
        self.compute_rpcapi.stop_instance(context, instance['host'],
                                          instance_uuid)

    def reboot(self, context, instance_uuid, hard):
        instance = self.get(context, instance_uuid)
        db.instance_begin_action(context, instance_uuid,
                                 'reboot_hard' if hard else 'reboot')
        self.compute_rpcapi.reboot_instance(context, instance['host'],
                                            instance_uuid, hard)

    def get_console_output(self, context, instance_uuid, length=None):
        instance = self.get(context, instance_uuid)
        if instance['host'] is None:
            raise exception.InstanceInvalidState(
                action='get the console of', instance_id=instance_uuid,
                vm_state=instance['vm_state'],
                task_state=instance['task_state'])
        output = self.compute_rpcapi.get_console_output(
            context, instance['host'], instance_uuid)
        if length is None:
            return output
        lines = output.splitlines(keepends=True)
        return ''.join(lines[-length:]) if length else ''

    # -- volume attachments -----------------------------------------------

    def get_attachments(self, context, instance_uuid):
        self.get(context, instance_uuid)
        return db.bdm_get_all(context, instance_uuid)

    def get_attachment(self, context, instance_uuid, volume_id):
        self.get(context, instance_uuid)
        return db.bdm_get_by_volume(context, instance_uuid, volume_id)

    def attach_volume(self, context, instance_uuid, volume_id, tag=None,
                      delete_on_termination=False):
        instance = self.get(context, instance_uuid)
        if any(bdm['volume_id'] == volume_id
               for bdm in db.bdm_get_all(context, instance_uuid)):
            raise exception.VolumeAlreadyAttached(volume_id=volume_id,
                                                  instance_id=instance_uuid)
        volume = self.volume_api.get(volume_id)
        if volume['status'] != 'available' and not volume.get('multiattach'):
            raise exception.InvalidVolume(
                reason='volume %s is %s, not available' % (
                    volume_id, volume['status']))
        db.instance_begin_action(context, instance_uuid, 'attach_volume')
        return self.compute_rpcapi.attach_volume(
            context, instance['host'], instance_uuid, volume_id, tag,
            delete_on_termination)

    def detach_volume(self, context, instance_uuid, volume_id):
        instance = self.get(context, instance_uuid)
        db.bdm_get_by_volume(context, instance_uuid, volume_id)
        db.instance_begin_action(context, instance_uuid, 'detach_volume')
        self.compute_rpcapi.detach_volume(context, instance['host'],
                                          instance_uuid, volume_id)
