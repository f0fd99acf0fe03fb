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
from volmig_common import db

CONTEXT = db.new_context_manager()

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

def attachment_create(context, values):
    attachment = models.VolumeAttachment(
        id=uuidutils.generate_uuid(), deleted=False, **values)
    with CONTEXT.writer.using(context) as session:
        session.add(attachment)
        session.flush()
    return attachment_get(context, attachment.id)


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
