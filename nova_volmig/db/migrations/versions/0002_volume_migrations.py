"""Volume migrations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 00:00:00
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
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime),
        sa.Column('deleted_at', sa.DateTime),
        sa.Column('id', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('attachment_id', sa.String(36), nullable=False),
        sa.Column('new_attachment_id', sa.String(36)),
        sa.Column('instance_uuid', sa.String(36),
                  sa.ForeignKey('instances.uuid'), nullable=False),
        sa.Column('volume_id', sa.String(36), nullable=False),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('mode', sa.String(16)),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('progress', sa.Integer, nullable=False),
        sa.Column('error', sa.Text),
        sa.Column('device_name', sa.String(255), nullable=False),
        sa.Column('source_connection_info', sa.Text, nullable=False),
        sa.Column('new_connection_info', sa.Text),
        sa.Column('deleted', sa.Integer, nullable=False),
    )
    op.create_index('volume_migrations_attachment_id_idx',
                    'volume_migrations', ['attachment_id'])
    op.create_index('volume_migrations_instance_uuid_idx',
                    'volume_migrations', ['instance_uuid'])
