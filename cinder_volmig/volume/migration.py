"""Volume migration, driven by the source volume's service.

A migration moves through persisted steps; each step is written before
the side effect it names, and every side effect is idempotent, so a
restarted service runs the recorded step again (or undoes the migration)
without guessing:

``starting`` (the API accepted it) → ``creating_destination`` (the
destination's id is chosen; its row and data may exist) → ``attaching``
(in-use only: the destination attachment's id is chosen) →
``suspending`` (Nova start may have been called) → ``copying`` →
``completing`` (Nova complete may have been called) → ``swapping`` (Nova
no longer uses the source) → ``deleting_source`` (the volume already
points at the destination's data) → ``success``.

Any failure before ``swapping`` goes to ``rolling_back`` (Nova cancel,
the destination removed) → ``error``. From ``swapping`` on there is no way
back: Nova writes the destination.
"""

import threading
import time
import types

from oslo_log import log as logging
from oslo_utils import uuidutils

from cinder_volmig import exception
from cinder_volmig.compute import nova
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import copy as volume_copy
from cinder_volmig.volume import rpcapi

LOG = logging.getLogger(__name__)

# Seconds between two progress writes: enough to watch, few commits.
PROGRESS_INTERVAL = 0.25
# Nova's record status after which Nova uses the destination.
_NOVA_SWITCHED = 'completed'
# Nova's record status once complete was asked for: the compute service
# may not have got the request (a lost RPC message), so the source may
# still be in use; Nova refuses a cancel and repeats a complete.
_NOVA_COMPLETING = 'completing'
# Steps from which the migration can only go forward.
_PAST_RETURN = ('swapping', 'deleting_source')


class RollBack(Exception):
    """Ends the migration in error; the message says why."""


class RetryComplete(Exception):
    """Stops the migration until the next retry, which asks Nova to
    complete again."""


class Migrator:
    """Runs the migrations whose source is one backend (``manager``)."""

    def __init__(self, conf, manager, compute_api=None, volume_rpcapi=None):
        self.conf = conf
        self.manager = manager
        self.rpcapi = volume_rpcapi or rpcapi.VolumeAPI(conf)
        self._compute = compute_api
        self._slots = threading.BoundedSemaphore(
            conf.max_concurrent_migrations)
        self._running = set()
        self._lock = threading.Lock()

    @property
    def compute(self):
        # Built on first use: a service that never migrates an attached
        # volume needs no [nova] section.
        if self._compute is None:
            self._compute = nova.ComputeAPI(self.conf)
        return self._compute

    @property
    def bandwidth_limit(self):
        limit = self.manager.backend_config.migration_bandwidth_limit
        if limit is None:
            limit = self.conf.migration_bandwidth_limit
        return limit or None

    # Scheduling

    def _claim(self, migration_id):
        with self._lock:
            if migration_id in self._running:
                return False
            self._running.add(migration_id)
            return True

    def start(self, context, migration_id):
        """Runs the migration in its own thread unless it already runs
        here; returns the thread, or None."""
        if not self._claim(migration_id):
            return None
        thread = threading.Thread(target=self._run_claimed,
                                  args=(context, migration_id),
                                  name='migration-%s' % migration_id,
                                  daemon=True)
        thread.start()
        return thread

    def resume_all(self, context):
        """Picks up every unfinished migration of this backend that no
        thread of this service runs: after a restart, or to retry."""
        return [thread for thread in (
            self.start(context, migration.id)
            for migration in db_api.migration_get_unfinished(
                context, self.manager.host))
            if thread is not None]

    def _run_claimed(self, context, migration_id):
        try:
            with self._slots:
                self.run(context, migration_id)
        except Exception:
            LOG.exception('Migration %s stopped; it is retried later',
                          migration_id)
        finally:
            with self._lock:
                self._running.discard(migration_id)

    def run(self, context, migration_id):
        """Advances the migration until it ends; failures before the
        point of no return roll it back."""
        while True:
            migration = db_api.migration_get(context, migration_id)
            step = migration.step
            if step in db_api.MIGRATION_FINISHED:
                return migration
            if step == 'rolling_back':
                self._roll_back(context, migration)
                continue
            try:
                getattr(self, '_step_' + step)(context, migration)
            except Exception as e:
                if step in _PAST_RETURN:
                    raise
                LOG.exception('Migration %s failed at %s', migration_id,
                              step)
                self._begin_roll_back(context, migration, e)

    def _advance(self, context, migration, step, next_step, **values):
        if not db_api.migration_compare_and_swap(
                context, migration.id, {'step': step},
                dict(values, step=next_step)):
            raise exception.InvalidVolume(
                reason='migration %s left step %s' % (migration.id, step))

    # Forward steps

    def _step_starting(self, context, migration):
        if not db_api.volume_compare_and_swap(
                context, migration.volume_id,
                {'migration_status': ('starting', 'migrating')},
                {'migration_status': 'migrating'}):
            raise RollBack('volume %s is no longer starting a migration'
                           % migration.volume_id)
        self._advance(context, migration, 'starting', 'creating_destination',
                      dest_volume_id=uuidutils.generate_uuid())

    def _step_creating_destination(self, context, migration):
        dest = self._dest_volume(context, migration)
        if dest is None:
            dest = self._create_dest_row(context, migration)
        self.rpcapi.create_migration_destination(context, dest)
        if migration.src_attachment_id:
            self._advance(context, migration, 'creating_destination',
                          'attaching',
                          dst_attachment_id=uuidutils.generate_uuid())
        else:
            self._advance(context, migration, 'creating_destination',
                          'copying')

    def _create_dest_row(self, context, migration):
        volume = db_api.volume_get(context, migration.volume_id)
        [service] = db_api.service_get_all(
            context, host=rpcapi.service_host(migration.dest_host))
        return db_api.volume_create(context, {
            'id': migration.dest_volume_id,
            'user_id': volume.user_id,
            'project_id': volume.project_id,
            'display_name': volume.display_name,
            'size': volume.size,
            'status': 'creating',
            'migration_status': 'target:%s' % volume.id,
            'host': migration.dest_host,
            'service_uuid': service.uuid,
            'availability_zone': volume.availability_zone,
            'volume_type': volume.volume_type,
            'multiattach': False,
            'bootable': volume.bootable,
            'volume_metadata': {},
        })

    def _step_attaching(self, context, migration):
        try:
            db_api.attachment_get(context, migration.dst_attachment_id)
        except exception.AttachmentNotFound:
            db_api.attachment_create(context, {
                'id': migration.dst_attachment_id,
                'volume_id': migration.dest_volume_id,
                'instance_uuid': migration.instance_uuid,
                'attach_mode': 'rw',
                'attach_status': 'reserved',
            })
        db_api.volume_compare_and_swap(
            context, migration.dest_volume_id, {'status': 'available'},
            {'status': 'reserved'})
        self._advance(context, migration, 'attaching', 'suspending',
                      nova_start_requested=True)

    def _step_suspending(self, context, migration):
        try:
            # Repeating start on a started migration is safe (contract).
            self.compute.start(context, migration.src_attachment_id)
        except exception.NovaConflict as e:
            raise RollBack(e.message)
        self._advance(context, migration, 'suspending', 'copying')

    def _step_copying(self, context, migration):
        if migration.nova_start_requested:
            # A copy a restart interrupted is redone only while Nova
            # still keeps its writes away from the source.
            status = self.compute.show(
                context, migration.src_attachment_id)['status']
            if status != 'started':
                raise RollBack('Nova\'s migration is %s, not started'
                               % status)
        dest = db_api.volume_get(context, migration.dest_volume_id)
        source_path = self.manager.driver.local_path(
            _source_data(migration))
        dest_path = self.rpcapi.get_local_path(context, dest)
        db_api.migration_set_progress(context, migration.id, 0)
        reported = {'percent': 0, 'at': time.monotonic()}

        def progress(done, total):
            # 100 is for a copy that is flushed and done.
            percent = min(99, done * 100 // total) if total else 99
            now = time.monotonic()
            if (percent != reported['percent']
                    and now - reported['at'] >= PROGRESS_INTERVAL):
                reported.update(percent=percent, at=now)
                db_api.migration_set_progress(context, migration.id,
                                              percent)

        LOG.info('Copying volume %s from %s to %s', migration.volume_id,
                 source_path, dest_path)
        result = volume_copy.copy_volume(
            source_path, dest_path, progress=progress,
            bandwidth_limit=self.bandwidth_limit)
        LOG.info('Copied volume %s: %d bytes in %.1f s (%s)',
                 migration.volume_id, result.bytes_copied, result.seconds,
                 result.method)
        self._advance(context, migration, 'copying', 'completing',
                      progress=100, copy_method=result.method)

    def _step_completing(self, context, migration):
        if migration.nova_start_requested:
            status = self.compute.show(
                context, migration.src_attachment_id)['status']
            if status != _NOVA_SWITCHED:
                if status not in ('started', _NOVA_COMPLETING):
                    raise RollBack('Nova\'s migration is %s, not started'
                                   % status)
                # Also when completing: returns once the source is free.
                self.compute.complete(context, migration.src_attachment_id,
                                      migration.dst_attachment_id)
        self._advance(context, migration, 'completing', 'swapping')

    def _step_swapping(self, context, migration):
        db_api.volume_compare_and_swap(
            context, migration.volume_id, {'migration_status': 'migrating'},
            {'migration_status': 'completing'})
        if migration.src_attachment_id:
            self._terminate_source_connection(context, migration)
        dest = db_api.volume_get(context, migration.dest_volume_id)
        db_api.migration_swap_identity(context, migration, dest)

    def _terminate_source_connection(self, context, migration):
        try:
            attachment = db_api.attachment_get(context,
                                               migration.src_attachment_id)
        except exception.AttachmentNotFound:
            return
        if attachment.connector:
            self.manager.driver.terminate_connection(
                _source_data(migration), attachment.connector)

    def _step_deleting_source(self, context, migration):
        self.manager.driver.delete_volume(_source_data(migration))
        volume = db_api.volume_get(context, migration.volume_id)
        db_api.volume_compare_and_swap(
            context, migration.volume_id, {'migration_status': 'completing'},
            {'migration_status': 'success',
             'status': _settled_status(migration, volume)})
        self._advance(context, migration, 'deleting_source', 'success',
                      progress=100)
        LOG.info('Volume %s now lives on %s', migration.volume_id,
                 migration.dest_host)

    # Undoing

    def _begin_roll_back(self, context, migration, error):
        reason = str(error) or error.__class__.__name__
        if not db_api.migration_compare_and_swap(
                context, migration.id, {'step': migration.step},
                {'step': 'rolling_back', 'error': reason[:4000]}):
            LOG.warning('Migration %s left %s while failing', migration.id,
                        migration.step)

    def _roll_back(self, context, migration):
        if migration.nova_start_requested:
            try:
                status = self.compute.show(
                    context, migration.src_attachment_id)['status']
            except exception.NovaNotFound:
                status = None
            if status == _NOVA_SWITCHED:
                # Nova already writes the destination: the only safe way
                # is forward.
                LOG.warning('Migration %s: Nova completed it; finishing '
                            'instead of rolling back', migration.id)
                self._advance(context, migration, 'rolling_back',
                              'swapping', error=None)
                return
            if status == _NOVA_COMPLETING:
                # Neither back (Nova refuses) nor on to swapping (the
                # source may still be written): complete again, later.
                self._advance(context, migration, 'rolling_back',
                              'completing', error=None)
                raise RetryComplete('migration %s: Nova is completing'
                                    % migration.id)
            if status not in (None, 'cancelled', 'cancelling', 'error'):
                self.compute.cancel(context, migration.src_attachment_id)
        try:
            self._remove_destination(context, migration)
        except Exception:
            # The volume is safe whatever happens to the destination:
            # it ends in error now, its destination goes on a retry.
            LOG.exception('Migration %s: removing the destination failed',
                          migration.id)
            removed = False
        else:
            removed = True
        volume = db_api.volume_get(context, migration.volume_id)
        db_api.volume_compare_and_swap(
            context, migration.volume_id,
            {'migration_status': ('starting', 'migrating', 'completing')},
            {'migration_status': 'error',
             'status': _settled_status(migration, volume)})
        if not removed:
            raise exception.VolumeBackendError(
                backend=migration.dest_host,
                reason='destination %s not removed yet'
                       % migration.dest_volume_id)
        self._advance(context, migration, 'rolling_back', 'error')
        LOG.warning('Migration %s of volume %s ended in error: %s',
                    migration.id, migration.volume_id, migration.error)

    def _remove_destination(self, context, migration):
        dest = self._dest_volume(context, migration)
        if migration.dst_attachment_id:
            self._remove_dest_attachment(context, migration, dest)
        if dest is not None:
            self.rpcapi.delete_migration_destination(context, dest)

    def _remove_dest_attachment(self, context, migration, dest):
        try:
            attachment = db_api.attachment_get(context,
                                               migration.dst_attachment_id)
        except exception.AttachmentNotFound:
            return
        if attachment.connector and dest is not None:
            self.rpcapi.terminate_connection(context, dest,
                                             attachment.connector)
        db_api.attachment_compare_and_swap(
            context, attachment.id,
            {'attach_status': attachment.attach_status},
            {'attach_status': 'detaching'})
        db_api.attachment_destroy(context, attachment.id)

    @staticmethod
    def _dest_volume(context, migration):
        if migration.dest_volume_id is None:
            return None
        try:
            return db_api.volume_get(context, migration.dest_volume_id)
        except exception.VolumeNotFound:
            return None


def _source_data(migration):
    """The source's data as the driver knows it, whatever the volume row
    says after the swap."""
    return types.SimpleNamespace(id=migration.volume_id,
                                 name_id=migration.source_name_id)


def _settled_status(migration, volume):
    """The status the volume returns to once the migration ends."""
    if volume.status == 'maintenance':
        return migration.previous_status
    return volume.status
