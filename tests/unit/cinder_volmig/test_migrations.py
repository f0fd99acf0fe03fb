"""cinder_volmig's migrations match its models: see models_migrations."""

from cinder_volmig.db import migration
from cinder_volmig.db import models
from tests.unit import models_migrations

TestSQLite, TestMySQL, TestPostgreSQL = models_migrations.sync_tests(
    models.Base.metadata, migration.MIGRATIONS_DIR)
