"""``cinder-volmig-api``: the volume API server."""

import sys

from cinder_volmig import conf as cinder_conf
from cinder_volmig import services
from volmig_common import config
from volmig_common import service


def main():
    conf = cinder_conf.new_conf()
    config.parse_args(conf, 'cinder_volmig', sys.argv[1:])
    services.init(conf)
    service.run([services.api_service(conf)])
