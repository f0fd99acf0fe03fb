"""The ``*-manage`` commands: ``db sync`` and ``db version``."""

import sys

from oslo_config import cfg

from volmig_common import config
from volmig_common import db


def _add_db_parsers(subparsers):
    parser = subparsers.add_parser('db', help='Database schema management.')
    actions = parser.add_subparsers(dest='action')
    actions.required = True
    sync = actions.add_parser('sync', help='Upgrade the schema.')
    sync.add_argument('revision', nargs='?', default='head')
    actions.add_parser('version', help='Print the schema revision.')


def main(conf, project, migrations_dir, argv=None):
    conf.register_cli_opt(cfg.SubCommandOpt(
        'category', title='Commands', handler=_add_db_parsers))
    config.parse_args(conf, project, sys.argv[1:] if argv is None else argv)
    if conf.category.action == 'sync':
        db.sync(conf, migrations_dir, conf.category.revision)
    else:
        print(db.current_version(conf))
    return 0
