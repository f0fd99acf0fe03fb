"""Volume migration, driven by the source volume's service.

A migration moves through the persisted steps of ``migration_steps``,
whose table is the whole step machine: each step is written before the
side effect it names, and every side effect is idempotent, so a
restarted service runs the recorded step again (or undoes the migration)
without guessing.

``starting`` → ``creating_destination`` → ``attaching`` (in-use only) →
``suspending`` (Nova's start) → ``copying`` → ``completing`` (Nova's
complete) → ``swapping`` → ``deleting_source`` → ``success``. A failure
before ``swapping`` goes to ``rolling_back`` → ``error``; from
``swapping`` on the only way is forward.

What Cinder deletes follows Nova's answers (``migration_contract``): the
destination only once Nova is back on the source (``DESTINATION_RELEASED``)
or never had the migration, the source only once complete answered or
Nova switched (``SOURCE_RELEASED``). Any other answer, or none, keeps
both volumes: the migration stays at its step (``RetryLater``) and
``resume_all`` runs it again later.

The volume's migration_status stays busy until the migration's last step
(``success`` or ``error``, written with it in one transaction), so a
second migration of the volume never starts while the first still talks
to Nova; and Nova's answers are read only from the record the
migration's own start created (``nova_created_at``).
"""

import threading
import time
import types

from oslo_log import log as logging
from oslo_utils import timeutils
from oslo_utils import uuidutils

from cinder_volmig import exception
from cinder_volmig.compute import nova
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import copy as volume_copy
from cinder_volmig.volume import migration_steps as steps
from cinder_volmig.volume import rpcapi
from volmig_common import migration_contract as contract

LOG = logging.getLogger(__name__)

# Seconds between two progress writes: enough to watch, few commits.
PROGRESS_INTERVAL = 0.25
# Seconds a rollback waits for Nova to finish cancelling before leaving
# the destination to the next retry, and between two looks.
CANCEL_WAIT = 30
NOVA_POLL_INTERVAL = 0.5


class RollBack(Exception):
    """An expected failure: the migration is undone; the message says
    why."""


class RetryLater(Exception):
    """Stops this run, keeping both volumes: the migration stays at its
    step until the next retry (``resume_all``)."""


class RetryComplete(RetryLater):
    """Nova is completing: the retry asks it to complete again."""


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
        # What runs each step that is not final.
        self.handlers = {
            steps.STARTING: self._take_volume,
            steps.CREATING_DESTINATION: self._create_destination,
            steps.ATTACHING: self._attach_destination,
            steps.SUSPENDING: self._suspend_writes,
            steps.COPYING: self._copy,
            steps.COMPLETING: self._complete,
            steps.SWAPPING: self._swap,
            steps.DELETING_SOURCE: self._delete_source,
            steps.ROLLING_BACK: self._roll_back,
        }

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
        except RetryLater as e:
            # Waiting for Nova is no crash.
            LOG.warning('Migration %s paused, it is retried later: %s',
                        migration_id, e)
        except Exception:
            LOG.exception('Migration %s stopped; it is retried later',
                          migration_id)
        finally:
            with self._lock:
                self._running.discard(migration_id)

    def run(self, context, migration_id):
        """Runs the migration's steps until it ends or a step raises
        RetryLater; a failure goes where migration_steps says (undone
        before the point of no return, else raised and retried)."""
        while True:
            migration = db_api.migration_get(context, migration_id)
            step = migration.step
            if step in steps.FINAL:
                return migration
            try:
                self.handlers[step](context, migration)
            except RetryLater:
                raise
            except Exception as e:
                failure_step = steps.on_failure(step)
                if failure_step is None:
                    raise
                if isinstance(e, RollBack):
                    LOG.warning('Migration %s failed at %s: %s',
                                migration_id, step, e)
                else:
                    LOG.exception('Migration %s failed at %s',
                                  migration_id, step)
                self._fail(context, migration, failure_step, e)

    @staticmethod
    def _move(context, migration, next_step, **values):
        """Moves the migration on from the step it was read at."""
        if not db_api.migration_move(context, migration.id, migration.step,
                                     next_step, **values):
            raise exception.InvalidVolume(
                reason='migration %s left step %s' % (migration.id,
                                                      migration.step))

    @staticmethod
    def _end(context, migration, last_step, migration_status, busy,
             **values):
        """Moves the migration to ``last_step`` and its volume from
        ``busy`` to ``migration_status`` together (db_api.migration_end):
        the volume is free only once nothing of the migration runs."""
        volume = db_api.volume_get(context, migration.volume_id)
        if not db_api.migration_end(
                context, migration.id, migration.step, last_step,
                migration.volume_id, {'migration_status': busy},
                {'migration_status': migration_status,
                 'status': _settled_status(migration, volume)}, **values):
            raise exception.InvalidVolume(
                reason='migration %s left step %s' % (migration.id,
                                                      migration.step))

    @staticmethod
    def _fail(context, migration, failure_step, error):
        reason = str(error) or error.__class__.__name__
        if not db_api.migration_move(context, migration.id, migration.step,
                                     failure_step, error=reason[:4000]):
            LOG.warning('Migration %s left %s while failing', migration.id,
                        migration.step)

    # Nova

    def _nova_status(self, context, migration):
        """The status of Nova's record of this migration, None when Nova
        has none; raises RetryLater when Nova does not answer.

        Nova answers with the newest record of the source attachment. It
        is this migration's only if it was created when this migration's
        start was (``nova_created_at``, from start's answer); a newer or
        older one is another migration's and is left alone: Nova starts
        another migration of the attachment only once this one ended
        with the guest on the source, so for this migration Nova has
        nothing any more (None).
        """
        try:
            record = self.compute.show(context, migration.src_attachment_id)
        except exception.NovaNotFound:
            return None
        except exception.NovaError as e:
            raise RetryLater('migration %s: %s' % (migration.id, e))
        if (migration.nova_created_at is None
                and record['status'] not in contract.FINAL):
            # Start's answer never came (lost), or the migration predates
            # nova_created_at. A record Nova still runs is this one's: its
            # volume stays busy until it is over, so no other migration
            # of the attachment started since.
            db_api.migration_adopt_nova_record(context, migration.id,
                                               record['created_at'])
            migration = db_api.migration_get(context, migration.id)
        if migration.nova_created_at is None:
            # A finished record that may be older than this migration:
            # read as before nova_created_at existed.
            return record['status']
        if not _same_instant(record['created_at'], migration.nova_created_at):
            LOG.warning('Migration %s: Nova\'s migration of attachment %s '
                        'created at %s is not this one (created at %s); '
                        'left alone', migration.id,
                        migration.src_attachment_id, record['created_at'],
                        migration.nova_created_at)
            return None
        return record['status']

    def _wait_while_cancelling(self, context, migration):
        """Nova's status once it is no longer cancelling, or after
        CANCEL_WAIT seconds."""
        deadline = time.monotonic() + CANCEL_WAIT
        while True:
            status = self._nova_status(context, migration)
            if status != contract.CANCELLING or time.monotonic() >= deadline:
                return status
            time.sleep(NOVA_POLL_INTERVAL)

    # Forward steps

    def _take_volume(self, context, migration):
        if not db_api.volume_compare_and_swap(
                context, migration.volume_id,
                {'migration_status': ('starting', 'migrating')},
                {'migration_status': 'migrating'}):
            raise RollBack('volume %s is no longer starting a migration'
                           % migration.volume_id)
        self._move(context, migration, steps.CREATING_DESTINATION,
                   dest_volume_id=uuidutils.generate_uuid())

    def _create_destination(self, context, migration):
        dest = self._dest_volume(context, migration)
        if dest is None:
            dest = self._create_dest_row(context, migration)
        self.rpcapi.create_migration_destination(context, dest)
        if migration.src_attachment_id:
            self._move(context, migration, steps.ATTACHING,
                       dst_attachment_id=uuidutils.generate_uuid())
        else:
            self._move(context, migration, steps.COPYING)

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

    def _attach_destination(self, context, migration):
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
        self._move(context, migration, steps.SUSPENDING,
                   nova_start_requested=True)

    def _suspend_writes(self, context, migration):
        try:
            # Repeating start on a started migration is safe (contract).
            record = self.compute.start(context, migration.src_attachment_id)
        except exception.NovaConflict as e:
            raise RollBack(e.message)
        self._move(context, migration, steps.COPYING,
                   nova_created_at=record['created_at'])

    def _copy(self, context, migration):
        if migration.nova_start_requested:
            # A copy a restart interrupted is redone only while Nova
            # still keeps its writes away from the source.
            status = self._nova_status(context, migration)
            if status != contract.STARTED:
                raise RollBack('Nova\'s migration is %s, not %s'
                               % (status, contract.STARTED))
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
        self._move(context, migration, steps.COMPLETING, progress=100,
                   copy_method=result.method, nova_complete_requested=True)

    def _complete(self, context, migration):
        if migration.nova_start_requested:
            status = self._nova_status(context, migration)
            if status == contract.RECONCILING:
                raise RetryLater('migration %s: Nova is reconciling'
                                 % migration.id)
            if status not in contract.SOURCE_RELEASED:
                if status not in (contract.STARTED, contract.COMPLETING):
                    raise RollBack('Nova\'s migration is %s, not %s'
                                   % (status, contract.STARTED))
                # Also when completing: returns once the source is free.
                self.compute.complete(context, migration.src_attachment_id,
                                      migration.dst_attachment_id)
        self._move(context, migration, steps.SWAPPING)

    def _swap(self, context, migration):
        db_api.volume_compare_and_swap(
            context, migration.volume_id, {'migration_status': 'migrating'},
            {'migration_status': 'completing'})
        if migration.src_attachment_id:
            self._terminate_source_connection(context, migration)
        dest = db_api.volume_get(context, migration.dest_volume_id)
        # Moves the migration on to deleting_source in the same
        # transaction.
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

    def _delete_source(self, context, migration):
        self.manager.driver.delete_volume(_source_data(migration))
        self._end(context, migration, steps.SUCCESS, 'success',
                  ('completing',), progress=100)
        LOG.info('Volume %s now lives on %s', migration.volume_id,
                 migration.dest_host)

    # Undoing

    def _roll_back(self, context, migration):
        if migration.nova_start_requested:
            status = self._cancel_in_nova(context, migration)
            if status in contract.SOURCE_RELEASED:
                # Nova already writes the destination: the only safe way
                # is forward.
                LOG.warning('Migration %s: Nova switched to the '
                            'destination; finishing instead of rolling '
                            'back', migration.id)
                self._move(context, migration, steps.SWAPPING, error=None)
                return
            if status == contract.COMPLETING:
                # Neither back (Nova refuses) nor on to swapping (the
                # source may still be written): complete again, later.
                self._move(context, migration, steps.COMPLETING,
                           error=None)
                raise RetryComplete('migration %s: Nova is completing'
                                    % migration.id)
            if (status is not None
                    and status not in contract.DESTINATION_RELEASED):
                raise RetryLater('migration %s: Nova\'s migration is %s, '
                                 'both volumes are kept'
                                 % (migration.id, status))
        try:
            self._remove_destination(context, migration)
        except Exception as e:
            # The volume is safe, but stays busy until a retry removed
            # its destination: a migration that started meanwhile could
            # be cancelled in Nova by this one.
            LOG.exception('Migration %s: removing the destination failed',
                          migration.id)
            raise exception.VolumeBackendError(
                backend=migration.dest_host,
                reason='destination %s not removed yet'
                       % migration.dest_volume_id) from e
        self._end(context, migration, steps.ERROR, 'error',
                  ('starting', 'migrating', 'completing'))
        LOG.warning('Migration %s of volume %s ended in error: %s',
                    migration.id, migration.volume_id, migration.error)

    def _cancel_in_nova(self, context, migration):
        """Nova's status once a started migration is cancelled: asks for
        the cancel, then waits while Nova cancels (CANCEL_WAIT at
        most)."""
        status = self._nova_status(context, migration)
        if status == contract.STARTED:
            try:
                self.compute.cancel(context, migration.src_attachment_id)
            except (exception.NovaConflict, exception.NovaError) as e:
                raise RetryLater('migration %s: %s' % (migration.id, e))
            status = contract.CANCELLING
        if status == contract.CANCELLING:
            status = self._wait_while_cancelling(context, migration)
        return status

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


def _same_instant(nova_time, recorded):
    """Whether two of Nova's timestamps name the same instant."""
    try:
        return (timeutils.normalize_time(timeutils.parse_isotime(nova_time))
                == timeutils.normalize_time(
                    timeutils.parse_isotime(recorded)))
    except (TypeError, ValueError):
        return nova_time == recorded


def _settled_status(migration, volume):
    """The status the volume returns to once the migration ends."""
    if volume.status == 'maintenance':
        return migration.previous_status
    return volume.status
