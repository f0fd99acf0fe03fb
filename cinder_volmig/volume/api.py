"""The volume service layer the REST API calls: checks, state, RPC.

Controllers stay thin; everything here is usable without HTTP.
"""

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from cinder_volmig import exception
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import manager
from cinder_volmig.volume import migration_steps
from cinder_volmig.volume import rpcapi
from volmig_common import exception as volmig_exception

LOG = logging.getLogger(__name__)

# Volume statuses in which an attachment may be added, by multiattach.
_ATTACHABLE = {
    False: ('available',),
    True: ('available', 'reserved', 'attaching', 'in-use'),
}
# Statuses of a volume with at least one attachment in progress or done.
_ATTACHED = ('reserved', 'attaching', 'in-use', 'detaching')
_DELETABLE = ('available', 'error', 'error_deleting')
# An admin's force delete also takes volumes stuck on their way.
_FORCE_DELETABLE = _DELETABLE + ('creating', 'deleting')
# A migration whose status is one of these no longer holds the volume.
_MIGRATION_IDLE = db_api.VOLUME_MIGRATION_IDLE
_MIGRATABLE = ('available', 'in-use')


def service_is_up(conf, service):
    last_seen = service.updated_at or service.created_at
    return not timeutils.is_older_than(last_seen, conf.service_down_time)


def _project_scope(context):
    # Nova calls with a service-role token of its own project.
    if _acts_for_nova(context):
        return None
    return context.project_id


def _acts_for_nova(context):
    """Whether the caller may be Nova: the service role, its own or vouched
    for by a service token, or an admin.

    Admins count because Nova, when it acts for the admin who started a
    migration (migrating is admin-only), sends that admin's token beside
    its own service token, and because without Keystone (noauth) every
    caller is an admin and none has the service role.
    """
    roles = set(context.roles or ()) | set(context.service_roles or ())
    return context.is_admin or 'service' in roles


class API:
    def __init__(self, conf, volume_rpcapi=None):
        self.conf = conf
        self.rpcapi = volume_rpcapi or rpcapi.VolumeAPI(conf)

    # Scheduling

    def _pick_backend(self, context, volume_type, size):
        """The up backend for a volume: the one ``volume_type`` names, or
        the one with most free space."""
        candidates = [
            s for s in db_api.service_get_all(context, binary=manager.BINARY)
            if not s.disabled and service_is_up(self.conf, s)]
        if volume_type:
            candidates = [
                s for s in candidates
                if volume_type in (s.host.partition('@')[2],
                                   (s.capabilities or {}).get(
                                       'volume_backend_name'))]
        candidates = [s for s in candidates
                      if (s.capabilities or {}).get(
                          'free_capacity_gb', 0) >= size]
        if not candidates:
            reason = ('no volume service is up with %d GiB free' % size
                      if not volume_type else
                      'no volume service is up for volume type %s with %d '
                      'GiB free' % (volume_type, size))
            raise exception.NoValidBackend(reason=reason)
        return max(candidates,
                   key=lambda s: s.capabilities['free_capacity_gb'])

    # Volumes

    def create(self, context, size, name=None, description=None,
               volume_type=None, availability_zone=None, metadata=None,
               multiattach=False):
        if size <= 0:
            raise volmig_exception.Invalid(
                message='Volume size %s must be an integer and greater than '
                        '0.' % size)
        zone = self.conf.storage_availability_zone
        if availability_zone not in (None, zone):
            raise volmig_exception.Invalid(
                message='Availability zone %s is invalid; the only zone is '
                        '%s.' % (availability_zone, zone))
        service = self._pick_backend(context, volume_type, size)
        backend = service.capabilities['volume_backend_name']
        volume = db_api.volume_create(context, {
            'id': uuidutils.generate_uuid(),
            'user_id': context.user_id,
            'project_id': context.project_id,
            'display_name': name,
            'display_description': description,
            'size': size,
            'status': 'creating',
            'host': '%s#%s' % (service.host, backend),
            'service_uuid': service.uuid,
            'availability_zone': zone,
            'volume_type': volume_type or backend,
            'multiattach': bool(multiattach),
            'bootable': False,
            'volume_metadata': metadata or {},
        })
        self._cast(self.rpcapi.create_volume, context, volume, 'creating',
                   'error')
        return volume

    def _cast(self, method, context, volume, status, error_status):
        """Hands the volume to its service; a volume the service never
        heard of would otherwise stay in ``status`` for ever."""
        try:
            method(context, volume)
        except messaging.MessagingException:
            host = rpcapi.service_host(volume.host)
            LOG.exception('Could not reach %s for volume %s', host,
                          volume.id)
            db_api.volume_compare_and_swap(
                context, volume.id, {'status': status},
                {'status': error_status})
            raise volmig_exception.ServiceUnavailable(
                reason='volume service %s is unreachable' % host)

    def get(self, context, volume_id):
        if not uuidutils.is_uuid_like(volume_id):
            raise exception.VolumeNotFound(volume_id=volume_id)
        return db_api.volume_get(context, volume_id,
                                 project_id=_project_scope(context))

    def get_all(self, context, filters=None, all_tenants=False, limit=None,
                marker=None):
        filters = dict(filters or {})
        project_id = filters.pop('project_id', None)
        if not (context.is_admin and (all_tenants or project_id)):
            project_id = context.project_id
        return db_api.volume_get_all(context, project_id=project_id,
                                     filters=filters, limit=limit,
                                     marker=marker)

    def delete(self, context, volume_id, force=False):
        volume = self.get(context, volume_id)
        if not db_api.volume_compare_and_swap(
                context, volume.id,
                {'status': _FORCE_DELETABLE if force else _DELETABLE,
                 'migration_status': _MIGRATION_IDLE},
                {'status': 'deleting'}):
            volume = self.get(context, volume_id)
            raise exception.InvalidVolume(
                reason='volume %s is %s%s; it must be available or error, '
                       'not attached and not migrating' % (
                           volume.id, volume.status,
                           ' (migration %s)' % volume.migration_status
                           if volume.migration_status else ''))
        self._cast(self.rpcapi.delete_volume, context, volume, 'deleting',
                   'error_deleting')

    # Migration

    def _destination(self, context, destination):
        """The up volume service and pool ``host@backend[#pool]`` names,
        as ``(service, 'host@backend#pool')``."""
        host, _, pool = destination.partition('#')
        services = db_api.service_get_all(context, binary=manager.BINARY,
                                          host=host) if host else []
        if not services:
            raise exception.InvalidHost(
                reason='destination %s is unknown: no volume service '
                       'runs there' % destination)
        [service] = services
        backend = (service.capabilities or {}).get('volume_backend_name')
        if pool and pool != backend:
            raise exception.InvalidHost(
                reason='destination %s is unknown: backend %s has only '
                       'pool %s' % (destination, host, backend))
        if service.disabled or not service_is_up(self.conf, service):
            raise exception.InvalidHost(
                reason='the volume service of destination %s is down'
                       % destination)
        return service, '%s#%s' % (host, backend)

    @staticmethod
    def _check_migratable(volume, service):
        if volume.migration_status not in _MIGRATION_IDLE:
            raise exception.InvalidVolume(
                reason='volume %s is already being migrated (migration '
                       'status %s)' % (volume.id, volume.migration_status))
        unfinished = [m for m in volume.migrations
                      if m.step not in migration_steps.FINAL]
        if unfinished:
            # Its rollback, say, still runs: the volume is not free yet.
            raise exception.InvalidVolume(
                reason='volume %s is already being migrated: migration %s '
                       'is at step %s' % (volume.id, unfinished[0].id,
                                          unfinished[0].step))
        if volume.status not in _MIGRATABLE:
            raise exception.InvalidVolume(
                reason='volume %s is %s; only an available or in-use '
                       'volume can be migrated' % (volume.id, volume.status))
        if len(volume.attachments) > 1:
            raise exception.InvalidVolume(
                reason='volume %s has %d attachments; a volume attached '
                       'more than once cannot be migrated'
                       % (volume.id, len(volume.attachments)))
        if rpcapi.service_host(volume.host) == service.host:
            raise exception.InvalidHost(
                reason='volume %s is already on %s' % (volume.id,
                                                       service.host))

    def migrate_volume(self, context, volume_id, destination,
                       force_host_copy=False, lock_volume=False):
        """Moves the volume's data to ``destination`` (host@backend[#pool]),
        keeping its id. Returns the migration once its service has it."""
        volume = self.get(context, volume_id)
        service, dest_host = self._destination(context, destination)
        self._check_migratable(volume, service)
        volume_values = {'migration_status': 'starting'}
        # Locking shows, as Cinder, that nothing else may touch it.
        if lock_volume and volume.status == 'available':
            volume_values['status'] = 'maintenance'
        migration = db_api.migration_create(
            context, volume.id,
            {'status': volume.status, 'host': volume.host,
             'migration_status': _MIGRATION_IDLE},
            volume_values,
            {'source_host': volume.host,
             'source_name_id': volume.name_id or volume.id,
             'dest_host': dest_host,
             'previous_status': volume.status,
             'lock_volume': bool(lock_volume),
             'force_host_copy': bool(force_host_copy)})
        if migration is None:
            # Changed under us: explain with what it is now.
            self._check_migratable(self.get(context, volume_id), service)
            raise exception.InvalidVolume(
                reason='volume %s changed while the migration was being '
                       'started; try again' % volume.id)
        try:
            self.rpcapi.migrate_volume(context, volume, migration.id)
        except messaging.MessagingException:
            LOG.exception('Could not reach the service of volume %s',
                          volume.id)
            db_api.migration_end(
                context, migration.id, migration_steps.STARTING,
                migration_steps.ERROR, volume.id,
                {'migration_status': 'starting'},
                {'migration_status': 'error', 'status': volume.status},
                error='volume service unreachable')
            raise volmig_exception.ServiceUnavailable(
                reason='volume service %s is unreachable'
                       % rpcapi.service_host(volume.host))
        return migration

    # Attachments (Cinder's 3.27+ flow: create, update, complete, delete)

    #
    # While a volume is under migration (as its source or as its hidden
    # ``target:`` destination) its attachments are the migration's: the
    # migration flow changes them through db_api directly, and an API
    # caller's create, update, complete or delete is refused (409), but
    # for one case: Nova, switching to the destination during its
    # complete, updates the destination attachment with its connector and
    # completes it. That is allowed to a caller that may be Nova
    # (_acts_for_nova), for the migration's destination attachment only,
    # while the migration is at a step of migration_steps.NOVA_SWITCHING
    # after it asked Nova to complete. Each change is checked again in
    # the transaction that makes it (db_api.attachment_reserve and
    # attachment_change), against a migration starting or moving on
    # meanwhile.

    def _refuse_while_migrating(self, context, volume_id, action):
        migration = db_api.migration_get_active(context, volume_id)
        if migration is not None:
            raise exception.VolumeMigrating(
                volume_id=volume_id, migration=migration.id, action=action)

    def _switching_migration(self, context, attachment, action):
        """The migration that lets this caller change ``attachment`` now
        (see above); None when its volume is not under migration. Raises
        VolumeMigrating for any other change of a migrating volume's
        attachment."""
        migration = db_api.migration_get_active(context,
                                                attachment.volume_id)
        if migration is None:
            return None
        if (action in ('updated', 'completed')
                and attachment.id == migration.dst_attachment_id
                and migration.step in migration_steps.NOVA_SWITCHING
                and migration.nova_complete_requested
                and _acts_for_nova(context)):
            return migration
        raise exception.VolumeMigrating(volume_id=attachment.volume_id,
                                        migration=migration.id,
                                        action=action)

    def attachment_create(self, context, volume_id, instance_uuid,
                          connector=None, mode='rw'):
        volume = self.get(context, volume_id)
        self._refuse_while_migrating(context, volume.id, 'created')
        # The volume keeps "in-use" while another attachment exists.
        next_status = 'attaching' if connector else 'reserved'
        if volume.status == 'in-use':
            next_status = 'in-use'
        attachment = None
        if volume.status in _ATTACHABLE[volume.multiattach]:
            # Raises VolumeMigrating when a migration started meanwhile.
            attachment = db_api.attachment_reserve(
                context, volume.id,
                {'status': volume.status,
                 'migration_status': _MIGRATION_IDLE},
                {'status': next_status},
                {'instance_uuid': instance_uuid,
                 'attach_mode': mode,
                 'attach_status': 'reserved'})
        if attachment is None:
            raise exception.InvalidVolume(
                reason='volume %s is %s and %s; it cannot take another '
                       'attachment' % (
                           volume.id, self.get(context, volume_id).status,
                           'multiattach' if volume.multiattach else
                           'not multiattach'))
        if connector:
            return self._connect(context, volume, attachment, connector,
                                 'created')
        return attachment

    def _connect(self, context, volume, attachment, connector, action,
                 migration=None):
        connection_info = self._rpc(
            self.rpcapi.initialize_connection, context, volume, connector)
        connection_info.setdefault('data', {})
        connection_info['attachment_id'] = attachment.id
        connection_info['access_mode'] = attachment.attach_mode
        if not db_api.attachment_change(
                context, attachment.id, volume.id,
                {'attach_status': ('reserved', 'attaching', 'attached')},
                {'attach_status': 'attaching'
                 if attachment.attach_status != 'attached' else 'attached',
                 'connector': connector,
                 'connection_info': connection_info,
                 'attached_host': connector.get('host'),
                 'mountpoint': connector.get('mountpoint')},
                action, volume_status=('reserved', 'attaching'),
                migration_id=migration and migration.id):
            raise exception.InvalidAttachment(
                reason='attachment %s is being deleted' % attachment.id)
        return db_api.attachment_get(context, attachment.id)

    def _rpc(self, method, context, volume, connector):
        try:
            return method(context, volume, connector)
        except messaging.MessagingTimeout:
            raise volmig_exception.ServiceUnavailable(
                reason='volume service %s did not answer'
                       % rpcapi.service_host(volume.host))
        except messaging.RemoteError as e:
            LOG.error('Volume service of %s failed: %s', volume.id, e)
            raise exception.VolumeBackendError(
                backend=volume.host, reason=e.exc_type)

    def attachment_get(self, context, attachment_id):
        if not uuidutils.is_uuid_like(attachment_id):
            raise exception.AttachmentNotFound(attachment_id=attachment_id)
        return db_api.attachment_get(
            context, attachment_id, project_id=_project_scope(context))

    def attachment_get_all(self, context, filters=None, all_tenants=False):
        project_id = context.project_id
        if context.is_admin and all_tenants:
            project_id = None
        return db_api.attachment_get_all(context, project_id=project_id,
                                         filters=filters)

    def attachment_update(self, context, attachment_id, connector):
        attachment = self.attachment_get(context, attachment_id)
        migration = self._switching_migration(context, attachment,
                                              'updated')
        volume = db_api.volume_get(context, attachment.volume_id)
        if attachment.attach_status not in ('reserved', 'attaching',
                                            'attached'):
            raise exception.InvalidAttachment(
                reason='attachment %s is %s' % (attachment.id,
                                                attachment.attach_status))
        return self._connect(context, volume, attachment, connector,
                             'updated', migration)

    def attachment_complete(self, context, attachment_id):
        attachment = self.attachment_get(context, attachment_id)
        migration = self._switching_migration(context, attachment,
                                              'completed')
        if not db_api.attachment_change(
                context, attachment.id, attachment.volume_id,
                {'attach_status': ('attaching', 'attached')},
                {'attach_status': 'attached',
                 'attach_time': attachment.attach_time or timeutils.utcnow()},
                'completed',
                volume_status=(('reserved', 'attaching', 'in-use'),
                               'in-use'),
                migration_id=migration and migration.id):
            raise exception.InvalidAttachment(
                reason='attachment %s is %s; only an attachment updated '
                       'with a connector can be completed' % (
                           attachment.id, attachment.attach_status))

    def attachment_delete(self, context, attachment_id):
        attachment = self.attachment_get(context, attachment_id)
        self._switching_migration(context, attachment, 'deleted')
        if not db_api.attachment_change(
                context, attachment.id, attachment.volume_id,
                {'attach_status': ('reserved', 'attaching', 'attached',
                                   'error_attaching')},
                {'attach_status': 'detaching'}, 'deleted',
                volume_status=(_ATTACHED, 'detaching')):
            raise exception.InvalidAttachment(
                reason='attachment %s is already being deleted'
                       % attachment.id)
        volume = db_api.volume_get(context, attachment.volume_id)
        if attachment.connector:
            self._rpc(self.rpcapi.terminate_connection, context, volume,
                      attachment.connector)
        db_api.attachment_destroy(context, attachment.id)
        return self._settle_volume_status(context, volume.id)

    def _settle_volume_status(self, context, volume_id):
        """Sets a volume's status from the attachments it has left, and
        returns them."""
        volume = db_api.volume_get(context, volume_id)
        states = {a.attach_status for a in volume.attachments}
        if 'attached' in states:
            status = 'in-use'
        elif 'attaching' in states:
            status = 'attaching'
        elif states:
            status = 'reserved'
        else:
            status = 'available'
        db_api.volume_compare_and_swap(
            context, volume_id, {'status': volume.status},
            {'status': status})
        return volume.attachments

    # Services

    def service_get_all(self, context, host=None, binary=None):
        return [(s, service_is_up(self.conf, s))
                for s in db_api.service_get_all(context, binary=binary,
                                                host=host)]
