"""The services nova_volmig runs, as the launchers build them."""

from nova_volmig.api import app
from nova_volmig.compute import manager as compute_manager
from nova_volmig.compute import rpcapi
from nova_volmig.db import api as db_api
from nova_volmig.db import migration
from volmig_common import db
from volmig_common import rpc
from volmig_common import service
from volmig_common import wsgi


def init(conf):
    db_api.configure(conf)


def api_service(conf):
    return wsgi.Server('nova-volmig-api', app.load_app(conf),
                       conf.api.host, conf.api.port)


class _ComputeService(service.RPCService):
    """The RPC server of the compute manager, after preparing the host."""

    def __init__(self, conf):
        self.manager = compute_manager.ComputeManager(conf)
        server = rpc.get_server(conf, rpcapi.TOPIC, conf.host,
                                [self.manager])
        # The first sync runs at start-up: instances whose guests changed
        # while the service was down are seen at once. The same task
        # resumes volume migrations a lost message left with work to do.
        super().__init__('nova-volmig-compute', server,
                         periodic=self.manager.periodic_tasks,
                         interval=conf.compute.sync_power_state_interval)

    def start(self):
        self.manager.init_host()
        super().start()


def worker_service(conf):
    return _ComputeService(conf)


def db_sync(conf):
    db.sync(conf, migration.MIGRATIONS_DIR)
