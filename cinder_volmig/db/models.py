"""Tables of cinder_volmig, shaped as Cinder's."""

from oslo_utils import timeutils
import sqlalchemy as sa
from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    pass


class TimestampMixin:
    created_at = sa.Column(sa.DateTime, default=timeutils.utcnow)
    updated_at = sa.Column(sa.DateTime, onupdate=timeutils.utcnow)


class SoftDeleteMixin:
    deleted_at = sa.Column(sa.DateTime)
    deleted = sa.Column(sa.Boolean, nullable=False, default=False)


class Service(Base, TimestampMixin, SoftDeleteMixin):
    """A volume service, one per ``host@backend``; updated_at is its
    heartbeat."""

    __tablename__ = 'services'
    __table_args__ = (
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
    )

    id = sa.Column(sa.Integer, primary_key=True)
    uuid = sa.Column(sa.String(36), nullable=False)
    host = sa.Column(sa.String(255), nullable=False)
    binary = sa.Column(sa.String(255), nullable=False)
    topic = sa.Column(sa.String(255), nullable=False)
    availability_zone = sa.Column(sa.String(255), nullable=False)
    report_count = sa.Column(sa.Integer, nullable=False, default=0)
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)
    disabled_reason = sa.Column(sa.String(255))
    # The driver's last stats: the scheduler's view of free space.
    capabilities = sa.Column(sa.JSON)


class Volume(Base, TimestampMixin, SoftDeleteMixin):
    __tablename__ = 'volumes'
    __table_args__ = (
        sa.Index('volumes_project_id_idx', 'project_id'),
        sa.Index('volumes_host_idx', 'host'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    # Set when the data lives under another id's file (after a migration).
    name_id = sa.Column(sa.String(36))
    user_id = sa.Column(sa.String(255))
    project_id = sa.Column(sa.String(255))
    display_name = sa.Column(sa.String(255))
    display_description = sa.Column(sa.String(255))
    size = sa.Column(sa.Integer, nullable=False)
    status = sa.Column(sa.String(255), nullable=False)
    migration_status = sa.Column(sa.String(255))
    host = sa.Column(sa.String(255))
    service_uuid = sa.Column(sa.String(36))
    availability_zone = sa.Column(sa.String(255))
    volume_type = sa.Column(sa.String(255))
    multiattach = sa.Column(sa.Boolean, nullable=False, default=False)
    bootable = sa.Column(sa.Boolean, nullable=False, default=False)
    volume_metadata = sa.Column(sa.JSON)

    attachments = orm.relationship(
        'VolumeAttachment', lazy='selectin', viewonly=True,
        primaryjoin='and_(VolumeAttachment.volume_id == Volume.id, '
                    'VolumeAttachment.deleted == false())',
        order_by='VolumeAttachment.created_at')

    migrations = orm.relationship(
        'VolumeMigration', lazy='selectin', viewonly=True,
        primaryjoin='VolumeMigration.volume_id == Volume.id',
        order_by='VolumeMigration.created_at.desc()')


class VolumeAttachment(Base, TimestampMixin, SoftDeleteMixin):
    __tablename__ = 'volume_attachment'
    __table_args__ = (
        sa.Index('volume_attachment_volume_id_idx', 'volume_id'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    volume_id = sa.Column(sa.String(36), sa.ForeignKey('volumes.id'),
                          nullable=False)
    instance_uuid = sa.Column(sa.String(36))
    attached_host = sa.Column(sa.String(255))
    mountpoint = sa.Column(sa.String(255))
    attach_time = sa.Column(sa.DateTime)
    detach_time = sa.Column(sa.DateTime)
    attach_mode = sa.Column(sa.String(36), nullable=False, default='rw')
    attach_status = sa.Column(sa.String(255), nullable=False)
    connector = sa.Column(sa.JSON)
    connection_info = sa.Column(sa.JSON)


class VolumeMigration(Base, TimestampMixin):
    """One migration of a volume, and how far it got.

    ``step`` is written before the side effect it names, so that a
    restarted volume service knows what may have happened and finishes
    or undoes it.
    """

    __tablename__ = 'volume_migrations'
    __table_args__ = (
        sa.Index('volume_migrations_volume_id_idx', 'volume_id'),
        sa.Index('volume_migrations_step_idx', 'step'),
    )

    id = sa.Column(sa.String(36), primary_key=True)
    volume_id = sa.Column(sa.String(36), sa.ForeignKey('volumes.id'),
                          nullable=False)
    # Where the data was and under which id (the source to delete).
    source_host = sa.Column(sa.String(255), nullable=False)
    source_name_id = sa.Column(sa.String(36), nullable=False)
    dest_host = sa.Column(sa.String(255), nullable=False)
    # Chosen before the rows they name are created.
    dest_volume_id = sa.Column(sa.String(36))
    src_attachment_id = sa.Column(sa.String(36))
    dst_attachment_id = sa.Column(sa.String(36))
    instance_uuid = sa.Column(sa.String(36))
    previous_status = sa.Column(sa.String(255), nullable=False)
    lock_volume = sa.Column(sa.Boolean, nullable=False, default=False)
    force_host_copy = sa.Column(sa.Boolean, nullable=False, default=False)
    # Set before Nova's start is called, so Nova may hold a record of
    # this migration (and keep writes away from the source) even if the
    # call failed: from then on, Nova's status decides what Cinder may
    # delete.
    nova_start_requested = sa.Column(sa.Boolean, nullable=False,
                                     default=False)
    # Set with the move to completing, before Nova's complete is called:
    # from then on Nova may connect the destination attachment while it
    # switches to it (migration_steps.NOVA_SWITCHING).
    nova_complete_requested = sa.Column(sa.Boolean, nullable=False,
                                        default=False,
                                        server_default=sa.false())
    # The created_at of Nova's record of this migration, as Nova gave it
    # (start's answer): Nova's show answers with the newest record of the
    # source attachment, which may be another migration's.
    nova_created_at = sa.Column(sa.String(64))
    step = sa.Column(sa.String(255), nullable=False)
    progress = sa.Column(sa.Integer, nullable=False, default=0)
    copy_method = sa.Column(sa.String(255))
    error = sa.Column(sa.Text)
