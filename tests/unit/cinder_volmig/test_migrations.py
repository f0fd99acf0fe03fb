"""The alembic migrations build exactly the models' schema.

SQLite always; MySQL and PostgreSQL when their test databases are
reachable (oslo.db's opportunistic fixtures skip otherwise).
"""

import os
import tempfile

from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from cinder_volmig.db import migration
from cinder_volmig.db import models
from volmig_common import db


class _Conf:
    """The only option db.sync reads."""

    def __init__(self, url):
        self.database = type('database', (), {'connection': url})()


class _ModelsMigrationsSync(test_migrations.ModelsMigrationsSync):
    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        db.sync(_Conf(engine.url.render_as_string(hide_password=False)),
                migration.MIGRATIONS_DIR)


class TestModelsMigrationsSQLite(test_migrations.ModelsMigrationsSync,
                                 testtools.TestCase):
    """A file, not oslo.db's in-memory SQLite: db.sync opens its own
    connection, which would see a different, empty in-memory database."""

    def setUp(self):
        super().setUp()
        directory = tempfile.mkdtemp()
        self.addCleanup(os.rmdir, directory)
        path = os.path.join(directory, 'cinder.db')
        self.addCleanup(os.unlink, path)
        self.url = 'sqlite:///' + path
        self.engine = sa.create_engine(self.url)
        self.addCleanup(self.engine.dispose)

    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        db.sync(_Conf(self.url), migration.MIGRATIONS_DIR)


class TestModelsMigrationsMySQL(_ModelsMigrationsSync,
                                test_fixtures.OpportunisticDBTestMixin,
                                testtools.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture


class TestModelsMigrationsPostgreSQL(_ModelsMigrationsSync,
                                     test_fixtures.OpportunisticDBTestMixin,
                                     testtools.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
