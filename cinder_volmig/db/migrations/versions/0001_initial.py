"""Initial schema: services, volumes, volume attachments.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def _timestamps():
    return [
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('deleted', sa.Boolean, nullable=False),
    ]


def upgrade():
    op.create_table(
        'services',
        *_timestamps(),
        sa.Column('id', sa.Integer, primary_key=True),
        sa.Column('uuid', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('binary', sa.String(255), nullable=False),
        sa.Column('topic', sa.String(255), nullable=False),
        sa.Column('availability_zone', sa.String(255), nullable=False),
        sa.Column('report_count', sa.Integer, nullable=False),
        sa.Column('disabled', sa.Boolean, nullable=False),
        sa.Column('disabled_reason', sa.String(255)),
        sa.Column('capabilities', sa.JSON),
        sa.UniqueConstraint('host', 'binary',
                            name='uniq_services0host0binary'),
    )
    op.create_table(
        'volumes',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('name_id', sa.String(36)),
        sa.Column('user_id', sa.String(255)),
        sa.Column('project_id', sa.String(255)),
        sa.Column('display_name', sa.String(255)),
        sa.Column('display_description', sa.String(255)),
        sa.Column('size', sa.Integer, nullable=False),
        sa.Column('status', sa.String(255), nullable=False),
        sa.Column('migration_status', sa.String(255)),
        sa.Column('host', sa.String(255)),
        sa.Column('service_uuid', sa.String(36)),
        sa.Column('availability_zone', sa.String(255)),
        sa.Column('volume_type', sa.String(255)),
        sa.Column('multiattach', sa.Boolean, nullable=False),
        sa.Column('bootable', sa.Boolean, nullable=False),
        sa.Column('volume_metadata', sa.JSON),
    )
    op.create_index('volumes_project_id_idx', 'volumes', ['project_id'])
    op.create_index('volumes_host_idx', 'volumes', ['host'])
    op.create_table(
        'volume_attachment',
        *_timestamps(),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('volume_id', sa.String(36), sa.ForeignKey('volumes.id'),
                  nullable=False),
        sa.Column('instance_uuid', sa.String(36)),
        sa.Column('attached_host', sa.String(255)),
        sa.Column('mountpoint', sa.String(255)),
        sa.Column('attach_time', sa.DateTime),
        sa.Column('detach_time', sa.DateTime),
        sa.Column('attach_mode', sa.String(36), nullable=False),
        sa.Column('attach_status', sa.String(255), nullable=False),
        sa.Column('connector', sa.JSON),
        sa.Column('connection_info', sa.JSON),
    )
    op.create_index('volume_attachment_volume_id_idx', 'volume_attachment',
                    ['volume_id'])
