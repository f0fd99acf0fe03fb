"""Reads and writes of the compute database.

Every function takes a request context and returns plain dicts, so results
can cross RPC unchanged.  State changes are compare-and-swaps.
"""

import datetime

from oslo_utils import timeutils
from oslo_utils import uuidutils
import sqlalchemy as sa

from nova_volmig import exception
from nova_volmig.compute import migration_states
from nova_volmig.compute import states
from nova_volmig.db import models
from volmig_common import db

_context_manager = db.new_context_manager()
_configured = []


def configure(conf):
    """Points the database at ``conf``; later calls change nothing."""
    if not _configured:
        db.configure(_context_manager, conf)
        _configured.append(conf)


def _to_dict(row):
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}


def _alive(model):
    return model.deleted == 0


def instance_create(context, values):
    now = timeutils.utcnow()
    row = models.Instance(uuid=uuidutils.generate_uuid(), created_at=now,
                          updated_at=now, power_state=states.NOSTATE,
                          deleted=0, **values)
    with _context_manager.writer.using(context) as session:
        session.add(row)
        session.flush()
        return _to_dict(row)


def _instance_query(session, uuid):
    return session.scalars(sa.select(models.Instance).where(
        models.Instance.uuid == uuid, _alive(models.Instance))).first()


def instance_get(context, uuid):
    with _context_manager.reader.using(context) as session:
        row = _instance_query(session, uuid)
        if row is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        return _to_dict(row)


def instance_get_all(context, project_id=None, host=None):
    query = sa.select(models.Instance).where(_alive(models.Instance))
    if project_id is not None:
        query = query.where(models.Instance.project_id == project_id)
    if host is not None:
        query = query.where(models.Instance.host == host)
    query = query.order_by(models.Instance.created_at.desc(),
                           models.Instance.id.desc())
    with _context_manager.reader.using(context) as session:
        return [_to_dict(row) for row in session.scalars(query)]


def instance_update_state(context, uuid, expected, values):
    """Compare-and-swap on an instance's columns; True if it won."""
    values = dict(values, updated_at=timeutils.utcnow())
    with _context_manager.writer.using(context) as session:
        return db.compare_and_swap(
            session, models.Instance, {'uuid': uuid, 'deleted': 0},
            expected, values)


def instance_begin_action(context, uuid, action):
    """Claims the instance for ``action`` (a key of states.ACTIONS).

    Returns the instance as it was before; raises InstanceInvalidState
    (409) when its states do not allow the action.
    """
    rule = states.ACTIONS[action]
    instance = instance_get(context, uuid)
    won = instance_update_state(
        context, uuid,
        {'vm_state': tuple(rule.vm_states),
         'task_state': tuple(rule.from_task_states)},
        {'task_state': rule.task_state})
    if not won:
        current = instance_get(context, uuid)
        raise exception.InstanceInvalidState(
            action=action.replace('_', ' '), instance_id=uuid,
            vm_state=current['vm_state'], task_state=current['task_state'])
    return instance


def instance_end_action(context, uuid, task_state, values=None):
    """Clears ``task_state`` (if still set) and applies ``values``."""
    return instance_update_state(context, uuid, {'task_state': task_state},
                                 dict(values or {}, task_state=None))


def instance_end_migration(context, migration):
    """Clears the migrating task state that ``migration`` (now final)
    set, unless another migration of the instance still needs it: a late
    end of an abandoned migration never frees the instance of a newer
    one."""
    unfinished = sa.select(models.VolumeMigration.id).where(
        models.VolumeMigration.instance_uuid == migration['instance_uuid'],
        models.VolumeMigration.status.not_in(
            sorted(migration_states.FINAL)))
    with _context_manager.writer.using(context) as session:
        session.execute(
            sa.update(models.Instance)
            .where(models.Instance.uuid == migration['instance_uuid'],
                   _alive(models.Instance),
                   models.Instance.task_state == states.MIGRATING_VOLUME,
                   ~sa.exists(unfinished))
            .values(task_state=None, updated_at=timeutils.utcnow())
            .execution_options(synchronize_session=False))


def instance_destroy(context, uuid):
    """Soft-deletes the instance and whatever mappings it still has."""
    now = timeutils.utcnow()
    with _context_manager.writer.using(context) as session:
        row = _instance_query(session, uuid)
        if row is None:
            return False
        won = db.compare_and_swap(
            session, models.Instance, {'id': row.id, 'deleted': 0}, {},
            {'vm_state': states.DELETED, 'task_state': None,
             'power_state': states.NOSTATE, 'deleted': row.id,
             'deleted_at': now, 'updated_at': now})
        session.execute(
            sa.update(models.BlockDeviceMapping)
            .where(models.BlockDeviceMapping.instance_uuid == uuid,
                   _alive(models.BlockDeviceMapping))
            .values(deleted=models.BlockDeviceMapping.id, deleted_at=now))
        return won


def bdm_create(context, values):
    now = timeutils.utcnow()
    row = models.BlockDeviceMapping(uuid=uuidutils.generate_uuid(),
                                    created_at=now, updated_at=now,
                                    deleted=0, **values)
    with _context_manager.writer.using(context) as session:
        session.add(row)
        session.flush()
        return _to_dict(row)


def bdm_get_all(context, instance_uuid):
    with _context_manager.reader.using(context) as session:
        return [_to_dict(row) for row in session.scalars(
            sa.select(models.BlockDeviceMapping)
            .where(models.BlockDeviceMapping.instance_uuid == instance_uuid,
                   _alive(models.BlockDeviceMapping))
            .order_by(models.BlockDeviceMapping.id))]


def bdm_get_by_volume(context, instance_uuid, volume_id):
    for bdm in bdm_get_all(context, instance_uuid):
        if bdm['volume_id'] == volume_id:
            return bdm
    raise exception.VolumeAttachmentNotFound(volume_id=volume_id,
                                             instance_id=instance_uuid)


def bdm_get_by_attachment(context, attachment_id):
    """The live mapping that uses a Cinder attachment."""
    with _context_manager.reader.using(context) as session:
        row = session.scalars(
            sa.select(models.BlockDeviceMapping)
            .where(models.BlockDeviceMapping.attachment_id == attachment_id,
                   _alive(models.BlockDeviceMapping))).first()
        if row is None:
            raise exception.AttachmentNotInUse(attachment_id=attachment_id)
        return _to_dict(row)


def bdm_update(context, bdm_uuid, values):
    with _context_manager.writer.using(context) as session:
        session.execute(
            sa.update(models.BlockDeviceMapping)
            .where(models.BlockDeviceMapping.uuid == bdm_uuid)
            .values(updated_at=timeutils.utcnow(), **values))


def bdm_destroy(context, bdm_uuid):
    with _context_manager.writer.using(context) as session:
        session.execute(
            sa.update(models.BlockDeviceMapping)
            .where(models.BlockDeviceMapping.uuid == bdm_uuid,
                   _alive(models.BlockDeviceMapping))
            .values(deleted=models.BlockDeviceMapping.id,
                    deleted_at=timeutils.utcnow()))


# Volume migrations

def migration_create(context, values):
    """Records a new migration (status ``starting``)."""
    now = timeutils.utcnow()
    row = models.VolumeMigration(created_at=now, updated_at=now, deleted=0,
                                 progress=0,
                                 status=migration_states.STARTING, **values)
    with _context_manager.writer.using(context) as session:
        session.add(row)
        session.flush()
        return _to_dict(row)


def migration_get(context, migration_id):
    with _context_manager.reader.using(context) as session:
        row = session.get(models.VolumeMigration, migration_id)
        if row is None or row.deleted:
            raise exception.VolumeMigrationNotFound(
                attachment_id='#%s' % migration_id)
        return _to_dict(row)


def migration_get_by_attachment(context, attachment_id):
    """The newest migration of a source attachment, or None."""
    with _context_manager.reader.using(context) as session:
        row = session.scalars(
            sa.select(models.VolumeMigration)
            .where(models.VolumeMigration.attachment_id == attachment_id,
                   _alive(models.VolumeMigration))
            .order_by(models.VolumeMigration.id.desc())).first()
        return None if row is None else _to_dict(row)


def migration_get_all(context, instance_uuid=None, host=None,
                      statuses=None, volume_id=None):
    query = sa.select(models.VolumeMigration).where(
        _alive(models.VolumeMigration))
    if instance_uuid is not None:
        query = query.where(
            models.VolumeMigration.instance_uuid == instance_uuid)
    if host is not None:
        query = query.where(models.VolumeMigration.host == host)
    if statuses is not None:
        query = query.where(models.VolumeMigration.status.in_(statuses))
    if volume_id is not None:
        query = query.where(models.VolumeMigration.volume_id == volume_id)
    with _context_manager.reader.using(context) as session:
        return [_to_dict(row) for row in session.scalars(
            query.order_by(models.VolumeMigration.id))]


def migration_update(context, migration_id, values):
    """Updates fields that are not the status (paths, progress)."""
    with _context_manager.writer.using(context) as session:
        session.execute(
            sa.update(models.VolumeMigration)
            .where(models.VolumeMigration.id == migration_id)
            .values(updated_at=timeutils.utcnow(), **values))
    return migration_get(context, migration_id)


def migration_transition(context, migration_id, event, values=None):
    """Moves a migration by ``event`` through migration_states' table.

    A compare-and-swap from the status the record was read in, so of two
    racing events only one moves it; the other is judged again against the
    status it finds. Returns the record; a retried event (``SAME``) changes
    nothing. Raises VolumeMigrationInvalidState (409) for a refused event.
    """
    while True:
        current = migration_get(context, migration_id)
        target = migration_states.next_status(current['status'], event)
        if target is migration_states.SAME:
            return current
        changes = dict(values or {}, status=target,
                       updated_at=timeutils.utcnow())
        with _context_manager.writer.using(context) as session:
            won = db.compare_and_swap(
                session, models.VolumeMigration, {'id': migration_id},
                {'status': current['status']}, changes)
        if won:
            return migration_get(context, migration_id)


def isotime(value):
    """A database timestamp as the API shows it."""
    if value is None:
        return None
    return value.replace(tzinfo=datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%SZ')
