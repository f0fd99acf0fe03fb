"""Building cinder_volmig's services from a configuration."""

from cinder_volmig import conf as cinder_conf
from cinder_volmig.api import app
from cinder_volmig.db import api as db_api
from cinder_volmig.db import migration
from cinder_volmig.volume import manager
from cinder_volmig.volume import rpcapi
from volmig_common import db
from volmig_common import rpc
from volmig_common import service
from volmig_common import wsgi


def init(conf):
    db_api.configure(conf)


def api_service(conf):
    return wsgi.Server('cinder-volmig-api', app.load_app(conf),
                       conf.api.host, conf.api.port)


class VolumeService:
    """Every backend of ``enabled_backends``, each its own RPC service
    ``host@backend`` that heartbeats on its own."""

    def __init__(self, conf):
        self.managers = []
        self.services = []
        for section in conf.enabled_backends:
            backend = cinder_conf.register_backend_opts(conf, section)
            volume_manager = manager.VolumeManager(conf, backend, section)
            server = rpc.get_server(conf, rpcapi.TOPIC, volume_manager.host,
                                    [volume_manager])
            self.managers.append(volume_manager)
            self.services.append(service.RPCService(
                'cinder-volume ' + volume_manager.host, server,
                periodic=volume_manager.periodic_tasks,
                interval=conf.report_interval))

    def start(self):
        for volume_manager, rpc_service in zip(self.managers, self.services,
                                               strict=True):
            volume_manager.init_host()
            # Schedulable as soon as start() returns.
            volume_manager.report_state()
            rpc_service.start()
        for volume_manager in self.managers:
            volume_manager.resume_migrations()

    def stop(self):
        for rpc_service in reversed(self.services):
            rpc_service.stop()


def worker_service(conf):
    return VolumeService(conf)


def db_sync(conf):
    db.sync(conf, migration.MIGRATIONS_DIR)
