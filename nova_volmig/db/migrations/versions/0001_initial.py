"""Instances and block device mappings.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [sa.Column('created_at', sa.DateTime, nullable=False),
            sa.Column('updated_at', sa.DateTime),
            sa.Column('deleted_at', sa.DateTime)]


def upgrade():
    op.create_table(
        'instances',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('name', sa.String(255), nullable=False),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('host', sa.String(255)),
        sa.Column('image_ref', sa.String(36), nullable=False),
        sa.Column('flavor_name', sa.String(255), nullable=False),
        sa.Column('memory_mb', sa.Integer, nullable=False),
        sa.Column('vcpus', sa.Integer, nullable=False),
        sa.Column('vm_state', sa.String(255), nullable=False),
        sa.Column('task_state', sa.String(255)),
        sa.Column('power_state', sa.Integer, nullable=False),
        sa.Column('deleted', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid'),
    )
    op.create_index('instances_host_deleted_idx', 'instances',
                    ['host', 'deleted'])
    op.create_index('instances_project_id_deleted_idx', 'instances',
                    ['project_id', 'deleted'])
    op.create_table(
        'block_device_mappings',
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('instance_uuid', sa.String(36),
                  sa.ForeignKey('instances.uuid'), nullable=False),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('attachment_id', sa.String(36)),
        sa.Column('connection_info', sa.Text),
        sa.Column('device_name', sa.String(255), nullable=False),
        sa.Column('tag', sa.String(255)),
        sa.Column('delete_on_termination', sa.Boolean, nullable=False),
        sa.Column('deleted', sa.Integer, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint('uuid'),
        sa.UniqueConstraint('instance_uuid', 'volume_id', 'deleted',
                            name='uniq_bdm0instance_uuid0volume_id0deleted'),
        sa.UniqueConstraint('instance_uuid', 'device_name', 'deleted',
                            name='uniq_bdm0instance_uuid0device_name0'
                                 'deleted'),
    )
    op.create_index('block_device_mappings_volume_id_idx',
                    'block_device_mappings', ['volume_id'])
