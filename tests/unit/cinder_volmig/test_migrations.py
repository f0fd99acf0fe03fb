"""cinder_volmig's migrations match its models (see models_migrations),
and keep what existing rows hold."""

import types

import sqlalchemy as sa

from cinder_volmig.db import migration
from cinder_volmig.db import models
from tests.unit import models_migrations
from volmig_common import db

TestSQLite, TestMySQL, TestPostgreSQL = models_migrations.sync_tests(
    models.Base.metadata, migration.MIGRATIONS_DIR)


def _upgraded(tmp_path, revision, inserts, select):
    """Rows of ``select`` after upgrading to the newest revision a SQLite
    database at ``revision`` holding volume ``v1`` and the rows of
    ``inserts`` ((statement, parameters) pairs)."""
    url = 'sqlite:///%s/cinder.db' % tmp_path
    conf = types.SimpleNamespace(
        database=types.SimpleNamespace(connection=url))
    db.sync(conf, migration.MIGRATIONS_DIR, revision=revision)
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO volumes (id, size, status, multiattach, "
                "bootable, deleted) VALUES ('v1', 1, 'in-use', 0, 0, 0)"))
            for statement, parameters in inserts:
                connection.execute(sa.text(statement), parameters)
        db.sync(conf, migration.MIGRATIONS_DIR)
        with engine.connect() as connection:
            return [tuple(row)
                    for row in connection.execute(sa.text(select)).all()]
    finally:
        engine.dispose()


def test_0003_keeps_whether_nova_start_was_requested(tmp_path):
    insert = (
        "INSERT INTO volume_migrations (id, volume_id, source_host, "
        "source_name_id, dest_host, previous_status, lock_volume, "
        "force_host_copy, nova_started, step, progress) VALUES (:id, 'v1', "
        "'h@a', 'v1', 'h@b', 'in-use', 0, 0, :started, 'copying', 0)")
    rows = _upgraded(tmp_path, '0002', [
        (insert, {'id': 'm1', 'started': 1}),
        (insert, {'id': 'm2', 'started': 0})],
        'SELECT id, nova_start_requested FROM volume_migrations ORDER BY id')
    assert rows == [('m1', True), ('m2', False)]


def test_0004_marks_migrations_that_asked_nova_to_complete(tmp_path):
    insert = (
        "INSERT INTO volume_migrations (id, volume_id, source_host, "
        "source_name_id, dest_host, previous_status, lock_volume, "
        "force_host_copy, nova_start_requested, step, progress) VALUES "
        "(:id, 'v1', 'h@a', 'v1', 'h@b', 'in-use', 0, 0, 1, :step, 0)")
    rows = _upgraded(tmp_path, '0003', [
        (insert, {'id': migration_id, 'step': step})
        for migration_id, step in (('m1', 'copying'), ('m2', 'completing'),
                                   ('m3', 'rolling_back'),
                                   ('m4', 'success'))],
        'SELECT id, nova_complete_requested FROM volume_migrations '
        'ORDER BY id')
    assert rows == [('m1', False), ('m2', True), ('m3', False),
                    ('m4', True)]
