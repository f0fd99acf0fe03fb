"""nova-volmig-manage: database schema commands."""

import sys

from nova_volmig import conf as nova_conf
from nova_volmig.db import migration
from volmig_common import manage


def main():
    sys.exit(manage.main(nova_conf.new_conf(), 'nova_volmig',
                         migration.MIGRATIONS_DIR))
