"""A migration and an attachment racing for one volume: exactly one wins.

The migration refuses a volume attached more than once. Each race runs
twice on a real database (SQLite always; MySQL and PostgreSQL when their
openstack_citest databases answer, as oslo.db's opportunistic fixtures
decide): one side is held inside its transaction just before its INSERT
while the other side runs in a second thread and session, then let go.
"""

import threading

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import test_fixtures
import sqlalchemy as sa
import testtools

from cinder_volmig import conf as cinder_conf
from cinder_volmig.db import api as db_api
from cinder_volmig.db import migration
from cinder_volmig.volume import api as volume_api
from cinder_volmig.volume import manager
from volmig_common import context
from volmig_common import db
from volmig_common import exception

SERVER = '6d3a1b2c-8f4e-4a5b-9c6d-7e8f9a0b1c2d'
OTHER_SERVER = '1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b'
VOLUME = '3f0c2d9e-5b1a-4c7d-8e6f-a9b8c7d6e5f4'
# How long the second side gets to go through while the first is held:
# it gets through at once when nothing stops it.
HOLD = 1.0


class _RPC:
    """The volume service, as far as these races reach it."""

    def __init__(self):
        self.migrations = []

    def migrate_volume(self, ctxt, volume, migration_id):
        self.migrations.append(migration_id)


class _Side(threading.Thread):
    """One racer: runs ``call`` and keeps what it returned or raised."""

    def __init__(self, name, call):
        super().__init__(name=name, daemon=True)
        self.call = call
        self.result = self.error = None

    def run(self):
        try:
            self.result = self.call()
        except exception.VolmigException as e:
            self.error = e


class _Races:
    """The races; each backend's setUp calls ``_prepare`` with its
    database."""

    def _prepare(self, url):
        conf = cinder_conf.new_conf()
        conf([], project='cinder_volmig')
        conf.set_override('connection', url, group='database')
        db.sync(conf, migration.MIGRATIONS_DIR)
        context_manager = db.new_context_manager()
        db.configure(context_manager, conf)
        self.useFixture(fixtures.MockPatchObject(db_api, 'CONTEXT',
                                                 context_manager))
        self.addCleanup(context_manager.writer.get_engine().dispose)
        self.db_engine = context_manager.writer.get_engine()
        self.context = context.get_admin_context()
        self.rpc = _RPC()
        self.cinder = volume_api.API(conf, volume_rpcapi=self.rpc)
        for backend in ('fast', 'slow'):
            db_api.service_heartbeat(
                self.context, 'node1@%s' % backend, manager.BINARY,
                'cinder-volume', 'nova',
                {'volume_backend_name': backend, 'free_capacity_gb': 10})
        # Multi-attach and attached once: it may be migrated, or take a
        # second attachment, not both.
        db_api.volume_create(self.context, {
            'id': VOLUME, 'project_id': 'demo', 'user_id': 'alice',
            'size': 1, 'status': 'in-use', 'host': 'node1@fast#fast',
            'availability_zone': 'nova', 'volume_type': 'fast',
            'multiattach': True, 'bootable': False, 'volume_metadata': {}})
        db_api.attachment_create(self.context, {
            'volume_id': VOLUME, 'instance_uuid': SERVER,
            'attach_mode': 'rw', 'attach_status': 'attached'})

    def _hold_before(self, table):
        """Holds the thread that next INSERTs into ``table``, inside its
        transaction, until ``release`` is set."""
        held = threading.Event()
        release = threading.Event()
        prefix = 'INSERT INTO %s ' % table

        def before(conn, cursor, statement, parameters, ctxt, many):
            if (statement.lstrip().upper().startswith(prefix.upper())
                    and not held.is_set()):
                held.set()
                release.wait(30)

        sa.event.listen(self.db_engine, 'before_cursor_execute', before)
        self.addCleanup(sa.event.remove, self.db_engine,
                        'before_cursor_execute', before)
        self.addCleanup(release.set)
        return held, release

    def _attach(self):
        return self.cinder.attachment_create(self.context, VOLUME,
                                             OTHER_SERVER)

    def _migrate(self):
        return self.cinder.migrate_volume(self.context, VOLUME, 'node1@slow')

    def _race(self, first, second, table):
        held, release = self._hold_before(table)
        first.start()
        self.assertTrue(held.wait(10), 'the first side never got there')
        second.start()
        second.join(HOLD)
        release.set()
        first.join(30)
        second.join(30)
        self.assertFalse(first.is_alive() or second.is_alive())

    def _assert_one_won(self, attach, migrate):
        volume = db_api.volume_get(self.context, VOLUME)
        migrations = volume.migrations
        self.assertEqual(
            1, [attach.error, migrate.error].count(None),
            'attach: %s; migrate: %s' % (attach.error, migrate.error))
        if migrate.error is None:
            # The migration runs with the one writer it knows of.
            self.assertEqual([SERVER],
                             [a.instance_uuid for a in volume.attachments])
            self.assertEqual('starting', volume.migration_status)
            self.assertEqual([migrate.result.id], [m.id for m in migrations])
        else:
            self.assertEqual(2, len(volume.attachments))
            self.assertIsNone(volume.migration_status)
            self.assertEqual([], migrations)
            self.assertEqual([], self.rpc.migrations)
        return volume

    def test_attachment_first_refuses_the_migration(self):
        attach = _Side('attach', self._attach)
        migrate = _Side('migrate', self._migrate)
        self._race(attach, migrate, 'volume_attachment')
        self._assert_one_won(attach, migrate)
        self.assertIsNone(attach.error)
        self.assertIn('attached more than once', migrate.error.message)
        self.assertEqual(400, migrate.error.code)

    def test_migration_first_refuses_the_attachment(self):
        attach = _Side('attach', self._attach)
        migrate = _Side('migrate', self._migrate)
        self._race(migrate, attach, 'volume_migrations')
        self._assert_one_won(attach, migrate)
        self.assertIsNone(migrate.error)
        self.assertEqual(409, attach.error.code)
        self.assertIn(migrate.result.id, attach.error.message)


class TestSQLite(_Races, testtools.TestCase):
    def setUp(self):
        super().setUp()
        # A file, shared by every connection (and thread).
        self._prepare('sqlite:///%s/cinder.db'
                      % self.useFixture(fixtures.TempDir()).path)


class _Opportunistic(_Races, test_fixtures.OpportunisticDBTestMixin):
    def setUp(self):
        # Provisions a database of its own for the test.
        super().setUp()
        self._prepare(enginefacade.writer.get_engine().url.render_as_string(
            hide_password=False))


class TestMySQL(_Opportunistic, testtools.TestCase):
    FIXTURE = test_fixtures.MySQLOpportunisticFixture


class TestPostgreSQL(_Opportunistic, testtools.TestCase):
    FIXTURE = test_fixtures.PostgresqlOpportunisticFixture
