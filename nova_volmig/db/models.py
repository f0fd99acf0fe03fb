"""The compute database: instances and their block device mappings."""

import sqlalchemy as sa
from sqlalchemy import orm


class Base(orm.DeclarativeBase):
    pass


class _Timestamps:
    created_at = sa.Column(sa.DateTime, nullable=False)
    updated_at = sa.Column(sa.DateTime)
    deleted_at = sa.Column(sa.DateTime)


class Instance(Base, _Timestamps):
    __tablename__ = 'instances'
    __table_args__ = (
        sa.Index('instances_host_deleted_idx', 'host', 'deleted'),
        sa.Index('instances_project_id_deleted_idx', 'project_id',
                 'deleted'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    name = sa.Column(sa.String(255), nullable=False)
    project_id = sa.Column(sa.String(255), nullable=False)
    user_id = sa.Column(sa.String(255), nullable=False)
    host = sa.Column(sa.String(255))
    image_ref = sa.Column(sa.String(36), nullable=False)
    flavor_name = sa.Column(sa.String(255), nullable=False)
    memory_mb = sa.Column(sa.Integer, nullable=False)
    vcpus = sa.Column(sa.Integer, nullable=False)
    vm_state = sa.Column(sa.String(255), nullable=False)
    task_state = sa.Column(sa.String(255))
    power_state = sa.Column(sa.Integer, nullable=False, default=0)
    # 0 while alive; the row's id once deleted (Nova's soft delete).
    deleted = sa.Column(sa.Integer, nullable=False, default=0)


class BlockDeviceMapping(Base, _Timestamps):
    __tablename__ = 'block_device_mappings'
    __table_args__ = (
        sa.UniqueConstraint('instance_uuid', 'volume_id', 'deleted',
                            name='uniq_bdm0instance_uuid0volume_id0deleted'),
        sa.UniqueConstraint('instance_uuid', 'device_name', 'deleted',
                            name='uniq_bdm0instance_uuid0device_name0'
                                 'deleted'),
        sa.Index('block_device_mappings_volume_id_idx', 'volume_id'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    uuid = sa.Column(sa.String(36), nullable=False, unique=True)
    instance_uuid = sa.Column(sa.String(36),
                              sa.ForeignKey('instances.uuid'),
                              nullable=False)
    volume_id = sa.Column(sa.String(36), nullable=False)
    attachment_id = sa.Column(sa.String(36))
    connection_info = sa.Column(sa.Text)
    device_name = sa.Column(sa.String(255), nullable=False)
    tag = sa.Column(sa.String(255))
    delete_on_termination = sa.Column(sa.Boolean, nullable=False,
                                      default=False)
    deleted = sa.Column(sa.Integer, nullable=False, default=0)


class VolumeMigration(Base, _Timestamps):
    """A migration of one attached volume, keyed by its source attachment.

    Written before each side effect, so that a restarted compute service
    knows what it was doing. The same attachment may be migrated again
    after a cancel: the newest row counts.
    """

    __tablename__ = 'volume_migrations'
    __table_args__ = (
        sa.Index('volume_migrations_attachment_id_idx', 'attachment_id'),
        sa.Index('volume_migrations_instance_uuid_idx', 'instance_uuid'),
    )

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    attachment_id = sa.Column(sa.String(36), nullable=False)
    new_attachment_id = sa.Column(sa.String(36))
    instance_uuid = sa.Column(sa.String(36),
                              sa.ForeignKey('instances.uuid'),
                              nullable=False)
    volume_id = sa.Column(sa.String(36), nullable=False)
    host = sa.Column(sa.String(255), nullable=False)
    mode = sa.Column(sa.String(16))
    status = sa.Column(sa.String(16), nullable=False)
    progress = sa.Column(sa.Integer, nullable=False, default=0)
    error = sa.Column(sa.Text)
    # The disk the migration is about, and where each layer lives.
    device_name = sa.Column(sa.String(255), nullable=False)
    source_connection_info = sa.Column(sa.Text, nullable=False)
    new_connection_info = sa.Column(sa.Text)
    deleted = sa.Column(sa.Integer, nullable=False, default=0)
