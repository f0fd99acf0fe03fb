"""The volume manager: one per backend, the RPC endpoint of its service."""

import threading

from oslo_log import log as logging
import oslo_messaging as messaging

from cinder_volmig import exception
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import drivers
from cinder_volmig.volume import migration
from cinder_volmig.volume import rpcapi
from volmig_common import context as volmig_context

LOG = logging.getLogger(__name__)

BINARY = 'cinder-volume'


class VolumeManager:
    """Runs one backend's volume operations and reports its health."""

    target = messaging.Target(version=rpcapi.VolumeAPI.RPC_API_VERSION)

    def __init__(self, conf, backend_config, section):
        self.conf = conf
        self.backend_config = backend_config
        self.backend_name = backend_config.volume_backend_name
        # What the RPC server and the services table know this backend as.
        self.host = '%s@%s' % (conf.host, section)
        self.driver = drivers.load(backend_config.volume_driver,
                                   backend_config, self.backend_name)
        self.migrator = migration.Migrator(conf, self)
        # Set once every backend of the service serves RPC.
        self._serving = threading.Event()

    @property
    def pool_host(self):
        """The host column of this backend's volumes (one pool)."""
        return '%s#%s' % (self.host, self.backend_name)

    def init_host(self):
        """Sets the backend up, then finishes work a crash interrupted."""
        self.driver.do_setup()
        ctxt = volmig_context.get_admin_context()
        for volume in db_api.volume_get_all_by_host(
                ctxt, self.host, ('creating', 'deleting')):
            LOG.info('Resuming %s of volume %s after a restart',
                     volume.status, volume.id)
            if volume.status == 'creating':
                self.create_volume(ctxt, volume.id)
            else:
                self.delete_volume(ctxt, volume.id)

    def resume_migrations(self):
        """Finishes or undoes the migrations this backend drives that no
        thread runs: all of them after a restart, failed ones later.

        Called once every backend of the service serves RPC, since a
        migration calls its destination's service.
        """
        self._serving.set()
        return self.migrator.resume_all(volmig_context.get_admin_context())

    def periodic_tasks(self):
        self.report_state()
        if self._serving.is_set():
            self.resume_migrations()

    def report_state(self):
        """The heartbeat: proves this backend alive, publishes its stats."""
        db_api.service_heartbeat(
            volmig_context.get_admin_context(), self.host, BINARY,
            rpcapi.TOPIC, self.conf.storage_availability_zone,
            self.driver.get_volume_stats())

    def create_volume(self, context, volume_id):
        volume = db_api.volume_get(context, volume_id)
        try:
            self.driver.create_volume(volume)
        except Exception:
            LOG.exception('Creating volume %s failed', volume_id)
            db_api.volume_compare_and_swap(
                context, volume_id, {'status': 'creating'},
                {'status': 'error'})
            return
        if not db_api.volume_compare_and_swap(
                context, volume_id, {'status': 'creating'},
                {'status': 'available'}):
            LOG.warning('Volume %s left "creating" while it was created',
                        volume_id)

    def delete_volume(self, context, volume_id):
        volume = db_api.volume_get(context, volume_id)
        try:
            self.driver.delete_volume(volume)
        except Exception:
            LOG.exception('Deleting volume %s failed', volume_id)
            db_api.volume_compare_and_swap(
                context, volume_id, {'status': 'deleting'},
                {'status': 'error_deleting'})
            return
        db_api.volume_destroy(context, volume_id)

    @messaging.expected_exceptions(exception.VolumeNotFound)
    def initialize_connection(self, context, volume_id, connector):
        volume = db_api.volume_get(context, volume_id)
        return self.driver.initialize_connection(volume, connector)

    @messaging.expected_exceptions(exception.VolumeNotFound)
    def terminate_connection(self, context, volume_id, connector):
        volume = db_api.volume_get(context, volume_id)
        self.driver.terminate_connection(volume, connector)

    # Migration: this backend as the source

    def migrate_volume(self, context, migration_id):
        # The caller's context: Nova is asked on the caller's behalf. A
        # migration resumed later runs with the service's own.
        self.migrator.start(context, migration_id)

    # Migration: this backend as the destination

    @messaging.expected_exceptions(exception.VolumeNotFound)
    def create_migration_destination(self, context, volume_id):
        volume = db_api.volume_get(context, volume_id)
        self.driver.create_volume(volume)
        db_api.volume_compare_and_swap(
            context, volume_id, {'status': 'creating'},
            {'status': 'available'})

    @messaging.expected_exceptions(exception.VolumeNotFound)
    def get_local_path(self, context, volume_id):
        return self.driver.local_path(db_api.volume_get(context, volume_id))

    def delete_migration_destination(self, context, volume_id):
        try:
            volume = db_api.volume_get(context, volume_id)
        except exception.VolumeNotFound:
            return
        if not (volume.migration_status or '').startswith('target:'):
            raise exception.InvalidVolume(
                reason='volume %s is not a migration destination'
                       % volume_id)
        self.driver.delete_volume(volume)
        db_api.volume_compare_and_swap(
            context, volume_id, {'status': volume.status},
            {'status': 'deleting'})
        db_api.volume_destroy(context, volume_id)
