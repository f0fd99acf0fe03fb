"""Volume migrations: whether Nova's complete was requested.

From then on Nova may connect the destination attachment while it
switches to it; attachments of a migrating volume are refused otherwise.
Migrations that reached completing before this revision asked for it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('volume_migrations', sa.Column(
        'nova_complete_requested', sa.Boolean, nullable=False,
        server_default=sa.false()))
    migrations = sa.table('volume_migrations', sa.column('step'),
                          sa.column('nova_complete_requested', sa.Boolean))
    op.execute(migrations.update()
               .where(migrations.c.step.in_(
                   ('completing', 'swapping', 'deleting_source', 'success')))
               .values(nova_complete_requested=True))
