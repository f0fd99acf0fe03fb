"""A service's alembic migrations build exactly what its models describe.

SQLite always; MySQL and PostgreSQL when their openstack_citest databases
answer (oslo.db's opportunistic fixtures skip otherwise). Each service's
test module calls ``sync_tests`` with its metadata and migrations.
"""

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
from oslo_db.sqlalchemy import test_migrations
import sqlalchemy as sa
import testtools

from volmig_common import db


class _Conf:
    """What volmig_common.db.sync reads of a configuration."""

    def __init__(self, url):
        self.database = type('database', (), {'connection': url})()


def sync_tests(metadata, migrations_dir):
    """The (SQLite, MySQL, PostgreSQL) test classes for one service."""

    class Sync(test_migrations.ModelsMigrationsSync):
        def get_engine(self):
            return self.engine

        def get_metadata(self):
            return metadata

        def db_sync(self, engine):
            db.sync(_Conf(engine.url.render_as_string(hide_password=False)),
                    migrations_dir)

    class SQLite(Sync, testtools.TestCase):
        def setUp(self):
            super().setUp()
            # A file: db.sync connects on its own, and would not see an
            # in-memory database.
            directory = self.useFixture(fixtures.TempDir()).path
            self.engine = sa.create_engine('sqlite:///%s/db' % directory)
            self.addCleanup(self.engine.dispose)

    class Opportunistic(Sync, test_fixtures.OpportunisticDBTestMixin):
        def setUp(self):
            super().setUp()
            self.engine = enginefacade.writer.get_engine()

    class MySQL(Opportunistic, testtools.TestCase):
        FIXTURE = test_fixtures.MySQLOpportunisticFixture

    class PostgreSQL(Opportunistic, testtools.TestCase):
        FIXTURE = test_fixtures.PostgresqlOpportunisticFixture

    return SQLite, MySQL, PostgreSQL
