"""nova-volmig-compute: the compute service."""

import sys

from nova_volmig import conf as nova_conf
from nova_volmig import services
from volmig_common import config
from volmig_common import service


def main():
    conf = nova_conf.new_conf()
    config.parse_args(conf, 'nova_volmig', sys.argv[1:])
    services.init(conf)
    service.run([services.worker_service(conf)])
