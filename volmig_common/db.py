"""Database plumbing: enginefacade per service, alembic, compare-and-swap."""

import os

from alembic import command as alembic_command
from alembic import config as alembic_config
from alembic import migration as alembic_migration
from oslo_db import options as db_options
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa

# The oslo.db [database] options the engine facade understands.
_FACADE_KEYS = ('connection', 'slave_connection', 'sqlite_fk',
                'connection_recycle_time', 'max_pool_size', 'max_overflow',
                'pool_timeout', 'mysql_sql_mode', 'connection_debug',
                'connection_trace', 'max_retries', 'retry_interval',
                'sqlite_synchronous', 'mysql_enable_ndb')


def register_opts(conf):
    db_options.set_defaults(conf)


def new_context_manager():
    """An independent transaction context: one per service's database."""
    return enginefacade.transaction_context()


def configure(context_manager, conf):
    values = {key: getattr(conf.database, key) for key in _FACADE_KEYS
              if key in conf.database}
    context_manager.configure(**values)


def compare_and_swap(session, model, filters, expected, values):
    """``UPDATE model SET values WHERE filters AND expected``.

    ``expected`` maps a column to a value or to a tuple of allowed values.
    Returns whether the row was updated: of two racing callers exactly one
    wins, which is how every state change in both services is made.
    """
    conditions = [getattr(model, k) == v for k, v in filters.items()]
    for key, value in expected.items():
        column = getattr(model, key)
        if not isinstance(value, (tuple, list, set, frozenset)):
            value = (value,)
        allowed = [v for v in value if v is not None]
        condition = column.in_(allowed)
        if None in value:
            # IN (NULL) is never true: "no value" needs IS NULL.
            condition = sa.or_(condition, column.is_(None))
        conditions.append(condition)
    result = session.execute(
        sa.update(model).where(*conditions).values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _alembic_config(migrations_dir, connection):
    config = alembic_config.Config()
    config.set_main_option('script_location', migrations_dir)
    config.set_main_option('sqlalchemy.url',
                           connection.replace('%', '%%'))
    return config


def sync(conf, migrations_dir, revision='head'):
    """Upgrades the service's database schema to ``revision``."""
    url = conf.database.connection
    if url.startswith('sqlite:///'):
        os.makedirs(os.path.dirname(os.path.abspath(url[len('sqlite:///'):])),
                    exist_ok=True)
    alembic_command.upgrade(_alembic_config(migrations_dir, url), revision)


def run_migrations(alembic_cfg, metadata):
    """The body of each service's alembic ``env.py`` (online mode only)."""
    from alembic import context as alembic_context
    engine = sa.create_engine(alembic_cfg.get_main_option('sqlalchemy.url'),
                              poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        alembic_context.configure(connection=connection,
                                  target_metadata=metadata,
                                  render_as_batch=True)
        with alembic_context.begin_transaction():
            alembic_context.run_migrations()
    engine.dispose()


def current_version(conf):
    engine = sa.create_engine(conf.database.connection)
    try:
        with engine.connect() as connection:
            return alembic_migration.MigrationContext.configure(
                connection).get_current_revision()
    finally:
        engine.dispose()
