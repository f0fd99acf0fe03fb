"""``cinder-volmig-manage``: ``db sync`` and ``db version``."""

import sys

from cinder_volmig import conf as cinder_conf
from cinder_volmig.db import migration
from volmig_common import manage


def main():
    return manage.main(cinder_conf.new_conf(), 'cinder_volmig',
                       migration.MIGRATIONS_DIR)


if __name__ == '__main__':
    sys.exit(main())
