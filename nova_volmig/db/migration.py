"""Where nova_volmig's alembic migrations live."""

import os

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')
