"""The alembic migrations create exactly what the models describe.

SQLite always; MySQL and PostgreSQL when their openstack_citest databases
answer (oslo.db's opportunistic fixtures skip otherwise).
"""

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from nova_volmig.db import migration
from nova_volmig.db import models
from volmig_common import db


class _Conf:
    """What volmig_common.db.sync reads of a configuration."""

    def __init__(self, url):
        self.database = type('database', (), {'connection': url})()


class _Sync(test_migrations.ModelsMigrationsSync):
    def get_engine(self):
        return self.engine

    def get_metadata(self):
        return models.Base.metadata

    def db_sync(self, engine):
        db.sync(_Conf(engine.url.render_as_string(hide_password=False)),
                migration.MIGRATIONS_DIR)


class TestSQLite(_Sync, testtools.TestCase):
    def setUp(self):
        super().setUp()
        # A file: db.sync connects on its own, and would not see an
        # in-memory database.
        directory = self.useFixture(
            fixtures.TempDir()).path
        self.engine = sa.create_engine('sqlite:///%s/nova.db' % directory)
        self.addCleanup(self.engine.dispose)


class _Opportunistic(_Sync, test_fixtures.OpportunisticDBTestMixin):
    def setUp(self):
        super().setUp()
        self.engine = enginefacade.writer.get_engine()


class TestMySQL(_Opportunistic, testtools.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture


class TestPostgreSQL(_Opportunistic, testtools.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
