"""Volume migrations: each step of a migration, for restarts.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'volume_migrations',
        sa.Column('created_at', sa.DateTime),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('volume_id', sa.String(36), sa.ForeignKey('volumes.id'),
                  nullable=False),
        sa.Column('source_host', sa.String(255), nullable=False),
        sa.Column('source_name_id', sa.String(36), nullable=False),
        sa.Column('dest_host', sa.String(255), nullable=False),
        sa.Column('dest_volume_id', sa.String(36)),
        sa.Column('src_attachment_id', sa.String(36)),
        sa.Column('dst_attachment_id', sa.String(36)),
        sa.Column('instance_uuid', sa.String(36)),
        sa.Column('previous_status', sa.String(255), nullable=False),
        sa.Column('lock_volume', sa.Boolean, nullable=False),
        sa.Column('force_host_copy', sa.Boolean, nullable=False),
        sa.Column('nova_started', sa.Boolean, nullable=False),
        sa.Column('step', sa.String(255), nullable=False),
        sa.Column('progress', sa.Integer, nullable=False),
        sa.Column('copy_method', sa.String(255)),
        sa.Column('error', sa.Text),
    )
    op.create_index('volume_migrations_volume_id_idx', 'volume_migrations',
                    ['volume_id'])
    op.create_index('volume_migrations_step_idx', 'volume_migrations',
                    ['step'])
