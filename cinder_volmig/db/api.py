"""Database access of cinder_volmig.

Every function takes a request context and runs in its own transaction of
this package's engine facade. Status changes go through compare-and-swap
so that of two racing requests exactly one wins.
"""

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from cinder_volmig import exception
from cinder_volmig.db import models
from cinder_volmig.volume import migration_steps
from volmig_common import db

CONTEXT = db.new_context_manager()

# A volume whose migration_status is one of these is not under migration.
VOLUME_MIGRATION_IDLE = (None, 'success', 'error')

_configured = []


def configure(conf):
    """Points the engine facade at ``conf``'s database.

    The facade can be configured only before its first use, so a second
    call (the all-in-one launcher and the commands both call it) is a no-op.
    """
    if not _configured:
        db.configure(CONTEXT, conf)
        _configured.append(conf)


# Services

def service_heartbeat(context, host, binary, topic, availability_zone,
                      capabilities):
    """Records that ``host`` is alive, creating its row on first report."""
    values = {'availability_zone': availability_zone,
              'capabilities': capabilities,
              'updated_at': timeutils.utcnow()}
    # Writing before reading: on SQLite a transaction that reads first
    # and then writes deadlocks against a concurrent writer.
    with CONTEXT.writer.using(context) as session:
        result = session.execute(
            sa.update(models.Service)
            .where(models.Service.host == host,
                   models.Service.binary == binary,
                   models.Service.deleted.is_(False))
            .values(report_count=models.Service.report_count + 1, **values)
            .execution_options(synchronize_session=False))
        if result.rowcount == 0:
            session.add(models.Service(
                uuid=uuidutils.generate_uuid(), host=host, binary=binary,
                topic=topic, report_count=1, disabled=False, deleted=False,
                **values))


def service_get_all(context, binary=None, host=None):
    with CONTEXT.reader.using(context) as session:
        query = sa.select(models.Service).filter_by(deleted=False)
        if binary:
            query = query.filter_by(binary=binary)
        if host:
            query = query.filter_by(host=host)
        return list(session.scalars(query.order_by(models.Service.id)))


# Volumes

def volume_create(context, values):
    volume = models.Volume(deleted=False, **values)
    with CONTEXT.writer.using(context) as session:
        session.add(volume)
        session.flush()
    return volume_get(context, volume.id)


def volume_get(context, volume_id, project_id=None):
    with CONTEXT.reader.using(context) as session:
        query = sa.select(models.Volume).filter_by(id=volume_id,
                                                   deleted=False)
        if project_id is not None:
            query = query.filter_by(project_id=project_id)
        volume = session.scalars(query).first()
    if volume is None:
        raise exception.VolumeNotFound(volume_id=volume_id)
    return volume


def volume_get_all(context, project_id=None, filters=None,
                   include_targets=False, limit=None, marker=None):
    """Volumes, newest first; migration targets only when asked for."""
    filters = filters or {}
    with CONTEXT.reader.using(context) as session:
        query = sa.select(models.Volume).filter_by(deleted=False)
        if project_id is not None:
            query = query.filter_by(project_id=project_id)
        for key in ('status', 'host', 'migration_status'):
            if key in filters:
                query = query.filter_by(**{key: filters[key]})
        if 'name' in filters:
            query = query.filter_by(display_name=filters['name'])
        if not include_targets:
            # A migration's destination is an implementation detail.
            query = query.filter(sa.or_(
                models.Volume.migration_status.is_(None),
                sa.not_(models.Volume.migration_status.startswith(
                    'target:'))))
        query = query.order_by(models.Volume.created_at.desc(),
                               models.Volume.id.desc())
        if marker is not None:
            anchor = session.scalars(sa.select(models.Volume).filter_by(
                id=marker, deleted=False)).first()
            if anchor is None:
                raise exception.VolumeNotFound(volume_id=marker)
            query = query.filter(sa.or_(
                models.Volume.created_at < anchor.created_at,
                sa.and_(models.Volume.created_at == anchor.created_at,
                        models.Volume.id < anchor.id)))
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def volume_get_all_by_host(context, host, statuses):
    """Volumes of one ``host@backend`` (any pool) in ``statuses``."""
    with CONTEXT.reader.using(context) as session:
        query = sa.select(models.Volume).filter(
            models.Volume.deleted.is_(False),
            models.Volume.status.in_(statuses),
            sa.or_(models.Volume.host == host,
                   models.Volume.host.startswith(host + '#')))
        return list(session.scalars(query))


def volume_compare_and_swap(context, volume_id, expected, values):
    """Updates the volume if it still matches ``expected``; returns
    whether it did."""
    with CONTEXT.writer.using(context) as session:
        return db.compare_and_swap(
            session, models.Volume, {'id': volume_id, 'deleted': False},
            expected, values)


def volume_destroy(context, volume_id):
    """Soft-deletes a volume that is being deleted."""
    return volume_compare_and_swap(
        context, volume_id, {'status': 'deleting'},
        {'status': 'deleted', 'deleted': True,
         'deleted_at': timeutils.utcnow()})


# Attachments
#
# The migration flow changes attachments with attachment_create,
# attachment_compare_and_swap and attachment_destroy. What API callers do
# goes through attachment_reserve and attachment_change instead: each
# makes its change in one transaction with a compare-and-swap on the row
# that says whether the volume is under migration, so that of a migration
# and an attachment change racing for a volume exactly one wins.

def attachment_create(context, values):
    """Creates an attachment; ``values`` may choose its id."""
    values = dict({'id': uuidutils.generate_uuid()}, **values)
    attachment = models.VolumeAttachment(deleted=False, **values)
    with CONTEXT.writer.using(context) as session:
        session.add(attachment)
        session.flush()
    return attachment_get(context, attachment.id)


def _migrating(session, volume_id, action):
    """VolumeMigrating for a volume under migration (as its source or
    its destination), or VolumeNotFound when it is gone; None when it is
    not under migration."""
    volume = session.scalars(sa.select(models.Volume).filter_by(
        id=volume_id, deleted=False)).first()
    if volume is None:
        return exception.VolumeNotFound(volume_id=volume_id)
    migration = _active_migration(session, volume_id)
    if migration is not None:
        return exception.VolumeMigrating(volume_id=volume_id,
                                         migration=migration.id,
                                         action=action)
    if volume.migration_status not in VOLUME_MIGRATION_IDLE:
        return exception.VolumeMigrating(
            volume_id=volume_id, action=action,
            migration='(migration_status %s)' % volume.migration_status)
    return None


def _claim_idle_volume(session, volume_id, action):
    """Raises VolumeMigrating unless the volume is not under migration;
    else locks its row until the transaction ends (a migration about to
    start waits, then sees what this transaction did)."""
    if not db.compare_and_swap(
            session, models.Volume, {'id': volume_id, 'deleted': False},
            {'migration_status': VOLUME_MIGRATION_IDLE},
            {'updated_at': timeutils.utcnow()}):
        raise (_migrating(session, volume_id, action)
               or exception.VolumeNotFound(volume_id=volume_id))


def _claim_switching_migration(session, migration_id, attachment_id,
                               action):
    """Raises VolumeMigrating unless the migration still lets Nova switch
    to its destination attachment ``attachment_id``; else locks its row
    until the transaction ends (a step change of the migration waits)."""
    if not db.compare_and_swap(
            session, models.VolumeMigration,
            {'id': migration_id, 'dst_attachment_id': attachment_id},
            {'step': migration_steps.NOVA_SWITCHING,
             'nova_complete_requested': True},
            {'updated_at': timeutils.utcnow()}):
        migration = session.get(models.VolumeMigration, migration_id)
        raise exception.VolumeMigrating(
            volume_id=migration.dest_volume_id, migration=migration_id,
            action=action)


def attachment_reserve(context, volume_id, expected, volume_values, values):
    """Creates an attachment for an API caller: the volume's
    compare-and-swap on ``expected`` and the INSERT are one transaction.

    ``expected`` must want the volume not under migration
    (VOLUME_MIGRATION_IDLE): migration_create swaps the same row before
    it counts the attachments. Returns None when the volume no longer
    matched ``expected``; raises VolumeMigrating when it is under
    migration.
    """
    values = dict({'id': uuidutils.generate_uuid()}, **values)
    with CONTEXT.writer.using(context) as session:
        # Writing first: see service_heartbeat.
        if not db.compare_and_swap(
                session, models.Volume, {'id': volume_id, 'deleted': False},
                expected, volume_values):
            refusal = _migrating(session, volume_id, 'created')
            if refusal is not None:
                raise refusal
            return None
        session.add(models.VolumeAttachment(deleted=False,
                                            volume_id=volume_id, **values))
        session.flush()
    return attachment_get(context, values['id'])


def attachment_change(context, attachment_id, volume_id, expected, values,
                      action, volume_status=None, migration_id=None):
    """Changes an attachment for an API caller (``action``: updated,
    completed, deleted), in one transaction with the check that allows it.

    Without ``migration_id``: its volume ``volume_id`` is not under
    migration. With it: the attachment is that migration's destination
    attachment and the migration still lets Nova switch to it
    (migration_steps.NOVA_SWITCHING, once complete was requested). Raises
    VolumeMigrating when the check fails. Then the attachment's
    compare-and-swap on ``expected``, and ``volume_status``, an
    ``(expected, new)`` status of the volume, if given. Returns whether
    the attachment (still on ``volume_id``) matched ``expected``.
    """
    with CONTEXT.writer.using(context) as session:
        if migration_id is None:
            _claim_idle_volume(session, volume_id, action)
        else:
            _claim_switching_migration(session, migration_id,
                                       attachment_id, action)
        if not db.compare_and_swap(
                session, models.VolumeAttachment,
                {'id': attachment_id, 'volume_id': volume_id,
                 'deleted': False}, expected, values):
            return False
        if volume_status is not None:
            db.compare_and_swap(
                session, models.Volume, {'id': volume_id, 'deleted': False},
                {'status': volume_status[0]}, {'status': volume_status[1]})
        return True


def _attachment_query(project_id):
    query = sa.select(models.VolumeAttachment).filter(
        models.VolumeAttachment.deleted.is_(False))
    if project_id is not None:
        query = query.join(models.Volume).filter(
            models.Volume.project_id == project_id)
    return query


def attachment_get(context, attachment_id, project_id=None):
    with CONTEXT.reader.using(context) as session:
        attachment = session.scalars(_attachment_query(project_id).filter(
            models.VolumeAttachment.id == attachment_id)).first()
    if attachment is None:
        raise exception.AttachmentNotFound(attachment_id=attachment_id)
    return attachment


def attachment_get_all(context, project_id=None, filters=None):
    filters = filters or {}
    with CONTEXT.reader.using(context) as session:
        query = _attachment_query(project_id)
        for key in ('volume_id', 'instance_uuid', 'attach_status'):
            if key in filters:
                query = query.filter(
                    getattr(models.VolumeAttachment, key) == filters[key])
        return list(session.scalars(query.order_by(
            models.VolumeAttachment.created_at.desc())))


def attachment_compare_and_swap(context, attachment_id, expected, values):
    with CONTEXT.writer.using(context) as session:
        return db.compare_and_swap(
            session, models.VolumeAttachment,
            {'id': attachment_id, 'deleted': False}, expected, values)


def attachment_destroy(context, attachment_id):
    """Soft-deletes an attachment that is being detached."""
    now = timeutils.utcnow()
    return attachment_compare_and_swap(
        context, attachment_id, {'attach_status': 'detaching'},
        {'attach_status': 'detached', 'detach_time': now, 'deleted': True,
         'deleted_at': now})


# Migrations


def migration_create(context, volume_id, expected, volume_values, values):
    """Claims the volume for a migration and records the migration.

    One transaction: the volume's compare-and-swap on ``expected``, then
    the check that no earlier migration of it is unfinished and that it
    has at most one attachment, then the migration row,
    which takes the attachment and its instance. API callers add an
    attachment only in a transaction that swaps the same volume row while
    it is not under migration (attachment_reserve), so an attachment is
    either counted here or refused. Returns None when the volume no
    longer matched ``expected``; raises InvalidVolume (undoing the swap)
    when it is attached more than once or another migration of it is
    not over.
    """
    with CONTEXT.writer.using(context) as session:
        # Writing first: see service_heartbeat.
        if not db.compare_and_swap(
                session, models.Volume, {'id': volume_id, 'deleted': False},
                expected, volume_values):
            return None
        # The volume stays busy until its last migration is over, its
        # rollback included, whatever its migration_status says.
        unfinished = _active_migration(session, volume_id)
        if unfinished is not None:
            raise exception.InvalidVolume(
                reason='volume %s is already being migrated: migration %s '
                       'is at step %s' % (volume_id, unfinished.id,
                                          unfinished.step))
        # Locking read: an attachment committed while the swap waited
        # for the volume's row is counted (MySQL's repeatable read would
        # otherwise be free to read an older snapshot).
        attachments = list(session.scalars(
            sa.select(models.VolumeAttachment).filter_by(
                volume_id=volume_id, deleted=False).with_for_update()))
        if len(attachments) > 1:
            raise exception.InvalidVolume(
                reason='volume %s has %d attachments; a volume attached '
                       'more than once cannot be migrated'
                       % (volume_id, len(attachments)))
        if attachments:
            values = dict(values,
                          src_attachment_id=attachments[0].id,
                          instance_uuid=attachments[0].instance_uuid)
        migration = models.VolumeMigration(
            id=uuidutils.generate_uuid(), volume_id=volume_id, progress=0,
            step=migration_steps.STARTING, nova_start_requested=False,
            **values)
        session.add(migration)
        session.flush()
    return migration_get(context, migration.id)


def _active_migration(session, volume_id):
    return session.scalars(
        sa.select(models.VolumeMigration).filter(
            models.VolumeMigration.step.not_in(migration_steps.FINAL),
            sa.or_(models.VolumeMigration.volume_id == volume_id,
                   models.VolumeMigration.dest_volume_id == volume_id))
        .order_by(models.VolumeMigration.created_at.desc())).first()


def migration_get_active(context, volume_id):
    """The unfinished migration whose source or destination is the
    volume, or None."""
    with CONTEXT.reader.using(context) as session:
        return _active_migration(session, volume_id)


def migration_get(context, migration_id):
    with CONTEXT.reader.using(context) as session:
        migration = session.get(models.VolumeMigration, migration_id)
    if migration is None:
        raise exception.MigrationNotFound(migration_id=migration_id)
    return migration


def migration_get_unfinished(context, source_service_host):
    """Migrations driven by one ``host@backend`` that have not ended."""
    with CONTEXT.reader.using(context) as session:
        return list(session.scalars(
            sa.select(models.VolumeMigration).filter(
                models.VolumeMigration.step.not_in(
                    migration_steps.FINAL),
                sa.or_(models.VolumeMigration.source_host
                       == source_service_host,
                       models.VolumeMigration.source_host.startswith(
                           source_service_host + '#')))
            .order_by(models.VolumeMigration.created_at)))


def _migration_move(session, migration_id, step, next_step, values):
    # Every step change of a migration is made here.
    migration_steps.check(step, next_step)
    return db.compare_and_swap(
        session, models.VolumeMigration, {'id': migration_id},
        {'step': step}, dict(values, step=next_step))


def migration_move(context, migration_id, step, next_step, **values):
    """Moves a migration from ``step`` to ``next_step``, with ``values``.

    A compare-and-swap on ``step``: returns whether it was still there.
    Raises InvalidMigrationStep when migration_steps' table does not
    allow the move.
    """
    with CONTEXT.writer.using(context) as session:
        return _migration_move(session, migration_id, step, next_step,
                               values)


def migration_end(context, migration_id, step, next_step, volume_id,
                  volume_expected, volume_values, **values):
    """Moves a migration to its last step (``next_step``) and frees its
    volume, in one transaction.

    The volume's compare-and-swap on ``volume_expected`` sets
    ``volume_values`` (its migration_status no longer busy) only if the
    migration was still at ``step``: a migration is never over while its
    volume looks free, nor the volume free while a migration worker may
    still act on it. Returns whether the migration moved.
    """
    with CONTEXT.writer.using(context) as session:
        if not _migration_move(session, migration_id, step, next_step,
                               values):
            return False
        db.compare_and_swap(
            session, models.Volume, {'id': volume_id, 'deleted': False},
            volume_expected, volume_values)
        return True


def migration_adopt_nova_record(context, migration_id, created_at):
    """Records ``created_at`` as that of Nova's record of the migration,
    unless one is recorded already; returns whether it was."""
    with CONTEXT.writer.using(context) as session:
        return db.compare_and_swap(
            session, models.VolumeMigration, {'id': migration_id},
            {'nova_created_at': None}, {'nova_created_at': created_at})


def migration_set_progress(context, migration_id, progress):
    """Progress is a measurement, not a state: written unconditionally."""
    with CONTEXT.writer.using(context) as session:
        session.execute(
            sa.update(models.VolumeMigration)
            .where(models.VolumeMigration.id == migration_id)
            .values(progress=progress)
            .execution_options(synchronize_session=False))


def migration_swap_identity(context, migration, dest_volume):
    """The destination's data becomes the volume's, in one transaction.

    The volume keeps its id and now lives on the destination under the
    destination's data id; the destination attachment moves to it, the
    source attachment and the temporary destination row go. Returns
    whether the swap was made (False when another worker made it).
    """
    now = timeutils.utcnow()
    with CONTEXT.writer.using(context) as session:
        if not _migration_move(session, migration.id,
                               migration_steps.SWAPPING,
                               migration_steps.DELETING_SOURCE, {}):
            return False
        if not db.compare_and_swap(
                session, models.Volume,
                {'id': migration.volume_id, 'deleted': False},
                {'migration_status': 'completing'},
                {'host': migration.dest_host,
                 'name_id': dest_volume.name_id or dest_volume.id,
                 'service_uuid': dest_volume.service_uuid}):
            raise exception.InvalidVolume(
                reason='volume %s left "completing" during its migration'
                       % migration.volume_id)
        if migration.dst_attachment_id:
            session.execute(
                sa.update(models.VolumeAttachment)
                .where(models.VolumeAttachment.id
                       == migration.dst_attachment_id)
                .values(volume_id=migration.volume_id)
                .execution_options(synchronize_session=False))
        if migration.src_attachment_id:
            session.execute(
                sa.update(models.VolumeAttachment)
                .where(models.VolumeAttachment.id
                       == migration.src_attachment_id,
                       models.VolumeAttachment.deleted.is_(False))
                .values(attach_status='detached', detach_time=now,
                        deleted=True, deleted_at=now)
                .execution_options(synchronize_session=False))
        session.execute(
            sa.update(models.Volume)
            .where(models.Volume.id == dest_volume.id)
            .values(status='deleted', deleted=True, deleted_at=now)
            .execution_options(synchronize_session=False))
    return True
