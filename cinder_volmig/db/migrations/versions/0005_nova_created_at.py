"""Volume migrations: which of Nova's records is the migration's.

Nova's show answers with the newest record of a source attachment; the
created_at of the one start answered with tells a migration's own record
from a later migration's. Unknown (null) for migrations started before
this revision: they take the record Nova still runs as theirs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('volume_migrations',
                  sa.Column('nova_created_at', sa.String(64)))
