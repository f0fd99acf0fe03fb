"""The compute API's service layer: checks, state claims, RPC.

Controllers stay thin: they check policy, validate shapes and call this.
"""

from oslo_utils import excutils

from nova_volmig import catalog
from nova_volmig import exception
from nova_volmig.compute import migration_states
from nova_volmig.compute import rpcapi
from nova_volmig.compute import states
from nova_volmig.db import api as db
from nova_volmig.volume import cinder
from volmig_common import migration_contract as contract

UNFINISHED_MIGRATIONS = tuple(
    status for status in migration_states.STATUSES
    if status not in migration_states.FINAL)


class API:
    def __init__(self, conf, compute_rpcapi=None, volume_api=None):
        self._conf = conf
        self.compute_rpcapi = compute_rpcapi or rpcapi.ComputeAPI(conf)
        self.volume_api = volume_api or cinder.VolumeAPI(conf)

    def _begin_action(self, context, instance_uuid, action):
        """Claims the instance for ``action`` (db.instance_begin_action).

        A refusal because a volume migration holds the instance names
        that migration, so the caller knows what to wait for or cancel.
        """
        try:
            return db.instance_begin_action(context, instance_uuid, action)
        except exception.InstanceInvalidState as e:
            if e.kwargs['task_state'] == states.MIGRATING_VOLUME:
                migration = self._unfinished_migration(context,
                                                       instance_uuid)
                if migration is not None:
                    raise exception.VolumeMigrationInProgress(
                        instance_id=instance_uuid,
                        attachment_id=migration['attachment_id'],
                        status=migration['status']) from None
            raise

    @staticmethod
    def _unfinished_migration(context, instance_uuid):
        migrations = db.migration_get_all(context,
                                          instance_uuid=instance_uuid,
                                          statuses=UNFINISHED_MIGRATIONS)
        return migrations[-1] if migrations else None

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
        instance = self._begin_action(context, instance_uuid, 'delete')
        if instance['host'] is None:
            # Never reached a compute service: nothing to tear down.
            db.instance_destroy(context, instance_uuid)
            return
        self.compute_rpcapi.delete_instance(context, instance['host'],
                                            instance_uuid)

    def start(self, context, instance_uuid):
        instance = self.get(context, instance_uuid)
        self._begin_action(context, instance_uuid, 'start')
        self.compute_rpcapi.start_instance(context, instance['host'],
                                           instance_uuid)

    def stop(self, context, instance_uuid):
        instance = self.get(context, instance_uuid)
        self._begin_action(context, instance_uuid, 'stop')
        self.compute_rpcapi.stop_instance(context, instance['host'],
                                          instance_uuid)

    def reboot(self, context, instance_uuid, hard):
        instance = self.get(context, instance_uuid)
        self._begin_action(context, instance_uuid,
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
        volume = self.volume_api.get(context, volume_id)
        if volume['status'] != 'available' and not volume.get('multiattach'):
            raise exception.InvalidVolume(
                reason='volume %s is %s, not available' % (
                    volume_id, volume['status']))
        self._begin_action(context, instance_uuid, 'attach_volume')
        return self.compute_rpcapi.attach_volume(
            context, instance['host'], instance_uuid, volume_id, tag,
            delete_on_termination)

    def detach_volume(self, context, instance_uuid, volume_id):
        instance = self.get(context, instance_uuid)
        db.bdm_get_by_volume(context, instance_uuid, volume_id)
        self._begin_action(context, instance_uuid, 'detach_volume')
        self.compute_rpcapi.detach_volume(context, instance['host'],
                                          instance_uuid, volume_id)

    # -- volume migrations ------------------------------------------------

    def get_volume_migration(self, context, attachment_id):
        """The newest migration of a source attachment; 404 if none."""
        migration = db.migration_get_by_attachment(context, attachment_id)
        if migration is None:
            raise exception.VolumeMigrationNotFound(
                attachment_id=attachment_id)
        return migration

    def get_volume_migrations(self, context, server_id=None,
                              volume_id=None, status=None):
        return db.migration_get_all(
            context, instance_uuid=server_id, volume_id=volume_id,
            statuses=None if status is None else (status,))

    def start_volume_migration(self, context, attachment_id):
        """Stops writes to a source attachment; returns the migration.

        Returns only once the compute service guarantees that no more
        writes reach the source. Repeating a start that took effect
        returns the same migration and does nothing.
        """
        bdm = db.bdm_get_by_attachment(context, attachment_id)
        instance_uuid = bdm['instance_uuid']
        newest = db.migration_get_by_attachment(context, attachment_id)
        if (newest is not None
                and newest['status'] not in migration_states.FINAL):
            # Refuses (409) everything but a retry of a start that took
            # effect.
            migration_states.next_status(newest['status'],
                                         migration_states.START)
            return newest
        instance = self._begin_action(context, instance_uuid,
                                      'migrate_volume')
        try:
            migration = db.migration_create(context, {
                'attachment_id': attachment_id,
                'instance_uuid': instance_uuid,
                'volume_id': bdm['volume_id'],
                'host': instance['host'],
                'device_name': bdm['device_name'],
                'source_connection_info': bdm['connection_info']})
        except Exception:
            with excutils.save_and_reraise_exception():
                db.instance_end_action(context, instance_uuid,
                                       states.MIGRATING_VOLUME)
        try:
            self.compute_rpcapi.start_volume_migration(
                context, instance['host'], migration['id'])
        except exception.ComputeUnavailable as e:
            # The compute service may never have seen the request, so
            # nothing else would release the instance. Other failures
            # were already cleaned up by the compute service.
            with excutils.save_and_reraise_exception():
                self._fail_migration(context, migration, e.message)
        return db.migration_get(context, migration['id'])

    @staticmethod
    def _fail_migration(context, migration, reason):
        """Leaves a start that did not answer to the compute service,
        which may have suspended writes or not: it finds out and goes
        back to the source. The instance stays claimed until then."""
        try:
            db.migration_transition(context, migration['id'],
                                    migration_states.ROLL_BACK,
                                    {'error': reason})
        except exception.VolumeMigrationInvalidState:
            pass  # the compute service settled it meanwhile

    def complete_volume_migration(self, context, attachment_id,
                                  new_attachment_id):
        """Switches the disk to ``new_attachment_id``; returns the migration.

        Returns once the source is no longer used; the switch may go on
        in the background. Repeating a complete to the same destination
        returns the migration and does nothing.
        """
        if new_attachment_id == attachment_id:
            raise exception.InvalidVolume(
                reason='new_attachment_id %s is the attachment being '
                       'migrated' % attachment_id)
        migration = self.get_volume_migration(context, attachment_id)
        # Refuses (409) a complete the current status does not allow.
        if migration_states.next_status(
                migration['status'],
                migration_states.COMPLETE) is not migration_states.SAME:
            migration = db.migration_transition(
                context, migration['id'], migration_states.COMPLETE,
                {'new_attachment_id': new_attachment_id})
        # Also catches a racing complete that won with another target.
        if migration['new_attachment_id'] != new_attachment_id:
            raise exception.VolumeMigrationTargetMismatch(
                attachment_id=attachment_id,
                new_attachment_id=migration['new_attachment_id'])
        if migration['status'] not in contract.SOURCE_RELEASED:
            # Also on a retry while completing: the first call may have
            # failed before the source was free.
            self.compute_rpcapi.complete_volume_migration(
                context, migration['host'], migration['id'])
            migration = db.migration_get(context, migration['id'])
        if migration['status'] == migration_states.COMPLETING:
            raise exception.VolumeMigrationSwitchPending(
                attachment_id=attachment_id)
        if migration['status'] not in contract.SOURCE_RELEASED:
            raise exception.VolumeMigrationSwitchFailed(
                attachment_id=attachment_id, status=migration['status'],
                reason=migration['error'])
        return migration

    def cancel_volume_migration(self, context, attachment_id):
        """Lets writes reach the source again; the rest runs in the
        background. Repeating a cancel does nothing.
        """
        migration = db.migration_transition(
            context, self.get_volume_migration(context, attachment_id)['id'],
            migration_states.CANCEL)
        if migration['status'] not in migration_states.FINAL:
            # Also on a repeated cancel: the first cast may be lost.
            self.compute_rpcapi.cancel_volume_migration(
                context, migration['host'], migration['id'])
