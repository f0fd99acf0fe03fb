"""The compute service: runs what the API asked for on this host.

The API has already claimed the instance with a task_state when a request
arrives here (except builds, claimed by state); each method ends by
clearing that task_state with a compare-and-swap.
"""

import json
import string
import threading
import time

from oslo_log import log as logging
import oslo_messaging as messaging
from oslo_utils import netutils

from nova_volmig import catalog
from nova_volmig import exception
from nova_volmig.compute import migration_states
from nova_volmig.compute import rpcapi
from nova_volmig.compute import states
from nova_volmig.db import api as db
from nova_volmig.virt import driver as virt_driver
from nova_volmig.volume import cinder
from volmig_common import context as volmig_context
from volmig_common import exception as common_exception

LOG = logging.getLogger(__name__)

_DEVICE_NAMES = ['/dev/vd' + letter for letter in string.ascii_lowercase]


def _jsonable(bdm):
    """A block device mapping without its timestamps, to cross RPC."""
    return {key: value for key, value in bdm.items()
            if key not in ('created_at', 'updated_at', 'deleted_at')}


class ComputeManager:
    target = messaging.Target(version=rpcapi.RPC_API_VERSION)

    def __init__(self, conf, driver=None, volume_api=None):
        self._conf = conf
        self.host = conf.host
        self.driver = driver or virt_driver.load_driver(conf)
        self.volume_api = volume_api or cinder.VolumeAPI(conf)
        # Migration id -> the thread doing its work (_drive).
        self._workers = {}
        self._workers_lock = threading.Lock()
        # Migration id -> set once its switch is over, won or lost.
        self._switch_waiters = {}
        # Migrations a complete call waits for.
        self._switch_waiting = set()
        self._switch_wait_lock = threading.Lock()

    def init_host(self):
        self.driver.init_host(self.host)
        self._recover_volume_migrations()

    # -- instances --------------------------------------------------------

    def build_instance(self, context, instance_uuid):
        claimed = db.instance_update_state(
            context, instance_uuid,
            {'host': None, 'vm_state': states.BUILDING,
             'task_state': states.SCHEDULING},
            {'host': self.host, 'task_state': states.SPAWNING})
        if not claimed:
            LOG.info('Instance %s was deleted or taken before it was '
                     'built', instance_uuid)
            return
        instance = db.instance_get(context, instance_uuid)
        try:
            image = catalog.get_image(self._conf, instance['image_ref'])
            self.driver.spawn(instance, image)
        except Exception:
            LOG.exception('Building instance %s failed', instance_uuid)
            db.instance_update_state(
                context, instance_uuid, {'task_state': states.SPAWNING},
                {'vm_state': states.ERROR, 'task_state': None})
            return
        built = db.instance_update_state(
            context, instance_uuid,
            {'vm_state': states.BUILDING, 'task_state': states.SPAWNING},
            {'vm_state': states.ACTIVE, 'task_state': None,
             'power_state': self.driver.get_power_state(instance)})
        if not built:
            # Deleted while it was being built: do not leave it behind.
            self.driver.destroy(instance)

    def _power_action(self, context, instance_uuid, task_state, vm_state,
                      work):
        instance = db.instance_get(context, instance_uuid)
        values = {}
        try:
            work(instance)
            values['vm_state'] = vm_state
        except common_exception.VolmigException:
            LOG.exception('%s of instance %s failed', task_state,
                          instance_uuid)
        finally:
            values['power_state'] = self.driver.get_power_state(instance)
            db.instance_end_action(context, instance_uuid, task_state,
                                   values)

    def start_instance(self, context, instance_uuid):
        self._power_action(context, instance_uuid, states.POWERING_ON,
                           states.ACTIVE, self.driver.power_on)

    def stop_instance(self, context, instance_uuid):
        timeout = self._conf.compute.shutdown_timeout
        self._power_action(
            context, instance_uuid, states.POWERING_OFF, states.STOPPED,
            lambda instance: self.driver.power_off(instance, timeout))

    def reboot_instance(self, context, instance_uuid, hard):
        timeout = self._conf.compute.shutdown_timeout
        task_state = states.REBOOTING_HARD if hard else states.REBOOTING
        self._power_action(
            context, instance_uuid, task_state, states.ACTIVE,
            lambda instance: self.driver.reboot(instance, hard, timeout))

    def delete_instance(self, context, instance_uuid):
        instance = db.instance_get(context, instance_uuid)
        try:
            self.driver.destroy(instance)
        except common_exception.VolmigException:
            LOG.exception('Deleting instance %s failed', instance_uuid)
            db.instance_end_action(context, instance_uuid, states.DELETING,
                                   {'vm_state': states.ERROR})
            return
        for bdm in db.bdm_get_all(context, instance_uuid):
            self._release_volume(context, bdm)
        db.instance_destroy(context, instance_uuid)

    def _release_volume(self, context, bdm):
        try:
            if bdm['attachment_id']:
                self.volume_api.attachment_delete(
                    context, bdm['attachment_id'], bdm['volume_id'])
            if bdm['delete_on_termination']:
                self.volume_api.delete(context, bdm['volume_id'])
        except common_exception.VolmigException:
            # The instance is gone either way; the volume service keeps
            # what it could not release.
            LOG.exception('Releasing volume %s failed', bdm['volume_id'])

    @messaging.expected_exceptions(common_exception.VolmigException)
    def get_console_output(self, context, instance_uuid):
        instance = db.instance_get(context, instance_uuid)
        return self.driver.get_console_output(instance)

    # -- volumes ----------------------------------------------------------

    def _connector(self):
        return {'host': self.host, 'ip': netutils.get_my_ipv4(),
                'initiator': None, 'platform': 'x86_64', 'os_type': 'linux',
                'multipath': False}

    def _free_device(self, context, instance_uuid):
        used = {bdm['device_name']
                for bdm in db.bdm_get_all(context, instance_uuid)}
        for name in _DEVICE_NAMES:
            if name not in used:
                return name
        raise exception.NoFreeDevice(instance_id=instance_uuid)

    @messaging.expected_exceptions(common_exception.VolmigException)
    def attach_volume(self, context, instance_uuid, volume_id, tag,
                      delete_on_termination):
        try:
            instance = db.instance_get(context, instance_uuid)
            device_name = self._free_device(context, instance_uuid)
            attachment = self.volume_api.attachment_create(
                context, volume_id, instance_uuid)
            # Recorded before anything is plugged in, so a crash leaves a
            # trace of the attachment to clean up.
            bdm = db.bdm_create(context, {
                'instance_uuid': instance_uuid, 'volume_id': volume_id,
                'attachment_id': attachment['id'],
                'device_name': device_name, 'tag': tag,
                'delete_on_termination': delete_on_termination})
            self._connect_volume(context, instance, bdm)
            return _jsonable(bdm)
        finally:
            db.instance_end_action(context, instance_uuid,
                                   states.ATTACHING_VOLUME)

    def _connect_volume(self, context, instance, bdm):
        plugged = False
        try:
            attachment = self.volume_api.attachment_update(
                context, bdm['attachment_id'], bdm['volume_id'],
                self._connector())
            connection_info = attachment['connection_info']
            db.bdm_update(context, bdm['uuid'],
                          {'connection_info': json.dumps(connection_info)})
            self.driver.attach_volume(instance, connection_info,
                                      bdm['device_name'], bdm['volume_id'])
            plugged = True
            self.volume_api.attachment_complete(
                context, bdm['attachment_id'], bdm['volume_id'])
        except Exception:
            LOG.exception('Attaching volume %s to %s failed',
                          bdm['volume_id'], instance['uuid'])
            if plugged:
                self.driver.detach_volume(instance, bdm['device_name'])
            self.volume_api.attachment_delete(
                context, bdm['attachment_id'], bdm['volume_id'])
            db.bdm_destroy(context, bdm['uuid'])
            raise

    @messaging.expected_exceptions(common_exception.VolmigException)
    def detach_volume(self, context, instance_uuid, volume_id):
        try:
            instance = db.instance_get(context, instance_uuid)
            bdm = db.bdm_get_by_volume(context, instance_uuid, volume_id)
            self.driver.detach_volume(instance, bdm['device_name'])
            if bdm['attachment_id']:
                self.volume_api.attachment_delete(
                    context, bdm['attachment_id'], volume_id)
            db.bdm_destroy(context, bdm['uuid'])
        finally:
            db.instance_end_action(context, instance_uuid,
                                   states.DETACHING_VOLUME)

    # -- volume migrations ------------------------------------------------
    #
    # The API records each step (status) before asking for it. A status in
    # migration_states.DRIVEN is work this service owes: one worker thread
    # per migration runs it, and tries again until the migration leaves
    # that status, after a failure, a restart (init_host) or a lost
    # message (the periodic task). The driver finds out from the
    # hypervisor how far a step already got, so any step can run again.
    # Only the last step of a migration clears the instance's task state.

    def _log_migration(self, migration, phase, *args):
        LOG.info('Volume migration of attachment %s (volume %s, server %s): '
                 + phase, migration['attachment_id'], migration['volume_id'],
                 migration['instance_uuid'], *args)

    def _transition(self, context, migration, event, **values):
        migration = db.migration_transition(context, migration['id'], event,
                                            values)
        if migration['status'] in migration_states.FINAL:
            db.instance_end_migration(context, migration)
        self._log_migration(migration, '%s', migration['status'])
        return migration

    def _progress_recorder(self, context, migration):
        last = [None]

        def record(percent):
            if percent != last[0]:
                last[0] = percent
                db.migration_update(context, migration['id'],
                                    {'progress': percent})
        return record

    @staticmethod
    def _as_volmig_error(error):
        if isinstance(error, common_exception.VolmigException):
            return error
        return exception.HypervisorError(reason=str(error))

    @messaging.expected_exceptions(common_exception.VolmigException)
    def start_volume_migration(self, context, migration_id):
        migration = db.migration_get(context, migration_id)
        if migration['status'] != migration_states.STARTING:
            # A request the API gave up on and the worker took over.
            raise exception.VolumeMigrationInvalidState(
                event=migration_states.START, status=migration['status'])
        instance = db.instance_get(context, migration['instance_uuid'])
        self._log_migration(migration, 'suspending writes to the source')
        try:
            mode = self.driver.start_volume_migration(instance, migration)
        except Exception as e:
            error = self._as_volmig_error(e)
            self._roll_back(context, migration, error.message)
            raise error from e
        try:
            self._transition(context, migration, migration_states.STARTED_OK,
                             mode=mode)
        except exception.VolumeMigrationInvalidState:
            # The API gave up on this start meanwhile: the worker writes
            # to the source again.
            self._drive(context, migration_id)
            raise

    def _roll_back(self, context, migration, reason):
        """Brings the guest back to the source after a failure, now or
        (should that fail too) in its worker; the record ends in error."""
        LOG.warning('Volume migration of attachment %s goes back to the '
                    'source: %s', migration['attachment_id'], reason)
        migration = db.migration_transition(
            context, migration['id'], migration_states.ROLL_BACK,
            {'error': reason})
        try:
            self._step_roll_back(context, migration)
        except Exception:
            self._drive(context, migration['id'])

    @messaging.expected_exceptions(common_exception.VolmigException)
    def complete_volume_migration(self, context, migration_id):
        """Returns once the source is free, or the switch failed, or a
        while has passed: the API reads the record to tell which."""
        # One caller waits; a retry while it does answers at once, so
        # retried completes never park every RPC thread.
        with self._switch_wait_lock:
            if migration_id in self._switch_waiting:
                return
            self._switch_waiting.add(migration_id)
            switched = self._switch_waiters.setdefault(migration_id,
                                                       threading.Event())
        try:
            self._drive(context, migration_id)
            status = db.migration_get(context, migration_id)['status']
            if status == migration_states.COMPLETING:
                switched.wait(
                    self._conf.compute.volume_migration_switch_wait)
        finally:
            with self._switch_wait_lock:
                self._switch_waiting.discard(migration_id)

    def cancel_volume_migration(self, context, migration_id):
        self._drive(context, migration_id)

    def _drive(self, context, migration_id):
        """Runs the migration's worker, unless it already runs."""
        with self._workers_lock:
            if migration_id in self._workers:
                return
            thread = threading.Thread(
                target=self._work, args=(context, migration_id),
                name='volume-migration-%s' % migration_id, daemon=True)
            self._workers[migration_id] = thread
        thread.start()

    def _work(self, context, migration_id):
        # Logged as the request that set it going, as the RPC thread does.
        context.update_store()
        try:
            self._run_steps(context, migration_id)
        except Exception:
            # Outside a step (the database failed): this worker stops
            # and the next _drive (the periodic task, a cast, a restart)
            # starts another.
            LOG.exception('Volume migration %s: its worker stopped',
                          migration_id)
            with self._workers_lock:
                self._workers.pop(migration_id, None)
        self._switch_over(migration_id)

    def _run_steps(self, context, migration_id):
        """Runs the migration's steps until it leaves DRIVEN."""
        step = None
        while True:
            with self._workers_lock:
                # Read under the lock: an event recorded after this read
                # finds no worker and starts one.
                migration = db.migration_get(context, migration_id)
                if migration['status'] not in migration_states.DRIVEN:
                    del self._workers[migration_id]
                    break
            if step == migration['status']:
                time.sleep(self._conf.compute.volume_migration_retry_interval)
            step = migration['status']
            try:
                self._STEPS[step](self, context, migration)
            except Exception as e:
                error = self._as_volmig_error(e)
                LOG.warning('Volume migration of attachment %s: %s failed, '
                            'tried again in %ss: %s',
                            migration['attachment_id'], step,
                            self._conf.compute.volume_migration_retry_interval,
                            error.message)
                if step != migration_states.RECONCILING:
                    # RECONCILING keeps the reason it rolls back for.
                    db.migration_update(context, migration_id,
                                        {'error': error.message})

    def _switch_over(self, migration_id):
        """Wakes the complete call waiting for the switch, if any."""
        with self._switch_wait_lock:
            event = self._switch_waiters.pop(migration_id, None)
        if event is not None:
            event.set()

    def _step_switch(self, context, migration):
        instance = db.instance_get(context, migration['instance_uuid'])
        self._log_migration(migration, 'switching to attachment %s',
                            migration['new_attachment_id'])
        try:
            if not migration['new_connection_info']:
                attachment = self.volume_api.attachment_update(
                    context, migration['new_attachment_id'],
                    migration['volume_id'], self._connector())
                migration = db.migration_update(context, migration['id'], {
                    'new_connection_info': json.dumps(
                        attachment['connection_info'])})
            self.driver.switch_volume_migration(instance, migration)
        except Exception as e:
            if (migration['new_connection_info']
                    and self.driver.locate_volume_migration(
                        instance, migration) == virt_driver.ON_DESTINATION):
                raise  # the guest may write the destination: retry
            self._roll_back(context, migration,
                            self._as_volmig_error(e).message)
            return
        bdm = db.bdm_get_by_volume(context, instance['uuid'],
                                   migration['volume_id'])
        if bdm['attachment_id'] != migration['new_attachment_id']:
            self.volume_api.attachment_complete(
                context, migration['new_attachment_id'],
                migration['volume_id'])
            db.bdm_update(context, bdm['uuid'], {
                'attachment_id': migration['new_attachment_id'],
                'connection_info': migration['new_connection_info']})
        self._transition(context, migration, migration_states.SWITCHED,
                         error=None)
        self._switch_over(migration['id'])

    def _step_finish(self, context, migration):
        instance = db.instance_get(context, migration['instance_uuid'])
        self.driver.finish_volume_migration(
            instance, migration, self._progress_recorder(context, migration))
        self._transition(context, migration, migration_states.COMPLETED_OK,
                         progress=100, error=None)

    def _step_cancel(self, context, migration):
        instance = db.instance_get(context, migration['instance_uuid'])
        self.driver.cancel_volume_migration(
            instance, migration, self._progress_recorder(context, migration))
        self._transition(context, migration, migration_states.CANCELLED_OK,
                         progress=100, error=None)

    def _step_roll_back(self, context, migration):
        instance = db.instance_get(context, migration['instance_uuid'])
        self.driver.cancel_volume_migration(instance, migration,
                                            lambda percent: None)
        self._transition(context, migration, migration_states.ROLLED_BACK)

    _STEPS = {
        migration_states.COMPLETING: _step_switch,
        migration_states.FINISHING: _step_finish,
        migration_states.CANCELLING: _step_cancel,
        migration_states.RECONCILING: _step_roll_back,
    }

    def _recover_volume_migrations(self):
        """Goes on with what a restart interrupted.

        A start that never answered is rolled back: its caller took it as
        failed. A started migration's guest must write to its overlay
        whatever happened to it meanwhile (a host reboot): if it writes
        the source, the copy Cinder makes may miss writes, so it is
        rolled back too.
        """
        context = volmig_context.get_admin_context()
        for migration in db.migration_get_all(
                context, host=self.host,
                statuses=(migration_states.STARTING,
                          migration_states.STARTED)):
            self._log_migration(migration, 'recovering from %s',
                                migration['status'])
            try:
                self._recover_started(context, migration)
            except Exception:
                LOG.exception('Recovering the migration of volume %s failed',
                              migration['volume_id'])
        self.resume_volume_migrations()

    def _recover_started(self, context, migration):
        if migration['status'] == migration_states.STARTING:
            self._roll_back(context, migration,
                            'the compute service restarted during start')
            return
        instance = db.instance_get(context, migration['instance_uuid'])
        if (migration['mode'] == virt_driver.LIVE
                and self.driver.locate_volume_migration(
                    instance, migration) != virt_driver.ON_OVERLAY):
            self._roll_back(context, migration,
                            'the guest no longer writes to its overlay')
            return
        self.driver.start_volume_migration(instance, migration)

    def resume_volume_migrations(self):
        """Runs the worker of every migration of this host with work
        left, unless it runs already."""
        context = volmig_context.get_admin_context()
        for migration in db.migration_get_all(
                context, host=self.host,
                statuses=tuple(migration_states.DRIVEN)):
            self._drive(context, migration['id'])

    # -- periodic ---------------------------------------------------------

    def periodic_tasks(self):
        self.sync_power_states()
        self.resume_volume_migrations()

    def sync_power_states(self):
        """Records what the hypervisor says about this host's instances.

        An instance that stopped on its own (the guest powered off) becomes
        stopped, as in Nova; instances in the middle of an action are left
        to that action.
        """
        context = volmig_context.get_admin_context()
        for instance in db.instance_get_all(context, host=self.host):
            if (instance['task_state'] is not None
                    or instance['vm_state'] not in (states.ACTIVE,
                                                    states.STOPPED)):
                continue
            power_state = self.driver.get_power_state(instance)
            values = {'power_state': power_state}
            if (instance['vm_state'] == states.ACTIVE
                    and power_state != states.RUNNING):
                values['vm_state'] = states.STOPPED
            if power_state == instance['power_state'] and len(values) == 1:
                continue
            LOG.info('Instance %s: hypervisor says power state %s',
                     instance['uuid'], power_state)
            db.instance_update_state(
                context, instance['uuid'],
                {'task_state': None, 'vm_state': instance['vm_state'],
                 'power_state': instance['power_state']}, values)
