"""Volume migrations: nova_started becomes nova_start_requested.

It is set before Nova's start is called, not once Nova started: the new
name says so.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # MySQL's CHANGE COLUMN restates the type and nullability.
    op.alter_column('volume_migrations', 'nova_started',
                    new_column_name='nova_start_requested',
                    existing_type=sa.Boolean, existing_nullable=False)
