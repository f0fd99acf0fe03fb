"""The compute service: runs what the API asked for on this host.

The API has already claimed the instance with a task_state when a request
arrives here (except builds, claimed by state); each method ends by
clearing that task_state with a compare-and-swap.
"""

import json
import string
import threading

from oslo_concurrency import lockutils
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
        # Migrations whose switch is done and whose finish runs.
        self._finishing = set()

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
    # The API records each step (status) before asking for it; the driver
    # finds out from the hypervisor how far a step already got, so any step
    # can be run again after a crash. Every path ends by clearing the
    # instance's task state.

    def _log_migration(self, migration, phase, *args):
        LOG.info('Volume migration of attachment %s (volume %s, server %s): '
                 + phase, migration['attachment_id'], migration['volume_id'],
                 migration['instance_uuid'], *args)

    def _end_migration(self, context, migration, event, error=None):
        values = {'progress': 100} if error is None else {'error': error}
        try:
            db.migration_transition(context, migration['id'], event, values)
        finally:
            db.instance_end_action(context, migration['instance_uuid'],
                                   states.MIGRATING_VOLUME)
        self._log_migration(migration, '%s%s', event,
                            '' if error is None else ': ' + error)

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
        instance = db.instance_get(context, migration['instance_uuid'])
        self._log_migration(migration, 'suspending writes to the source')
        try:
            mode = self.driver.start_volume_migration(instance, migration)
        except Exception as e:
            error = self._as_volmig_error(e)
            self._end_migration(context, migration, migration_states.FAIL,
                                error.message)
            raise error from e
        try:
            db.migration_transition(context, migration_id,
                                    migration_states.STARTED_OK,
                                    {'mode': mode})
        except exception.VolumeMigrationInvalidState:
            # The API gave up on this start: write to the source again.
            self.driver.cancel_volume_migration(instance, migration,
                                                lambda percent: None)
            raise
        self._log_migration(migration, 'started (%s)', mode)

    def _switch_volume(self, context, migration, instance):
        """Moves the disk and the mapping to the destination attachment."""
        if not migration['new_connection_info']:
            attachment = self.volume_api.attachment_update(
                context, migration['new_attachment_id'],
                migration['volume_id'], self._connector())
            migration = db.migration_update(context, migration['id'], {
                'new_connection_info': json.dumps(
                    attachment['connection_info'])})
        self.driver.switch_volume_migration(instance, migration)
        bdm = db.bdm_get_by_volume(context, instance['uuid'],
                                   migration['volume_id'])
        if bdm['attachment_id'] != migration['new_attachment_id']:
            self.volume_api.attachment_complete(
                context, migration['new_attachment_id'],
                migration['volume_id'])
            db.bdm_update(context, bdm['uuid'], {
                'attachment_id': migration['new_attachment_id'],
                'connection_info': migration['new_connection_info']})
        self._log_migration(migration, 'the source is free')
        return migration

    def _complete(self, context, migration):
        """Switches, then finishes in the background; the source is free
        when it returns. A retry waits for a switch under way, then finds
        it done."""
        with lockutils.lock('volume-migration-%s' % migration['id']):
            if migration['id'] in self._finishing:
                return
            self._switch_then_finish(context, migration)

    def _switch_then_finish(self, context, migration):
        instance = db.instance_get(context, migration['instance_uuid'])
        self._log_migration(migration, 'switching to attachment %s',
                            migration['new_attachment_id'])
        try:
            migration = self._switch_volume(context, migration, instance)
        except Exception as e:
            error = self._as_volmig_error(e)
            LOG.exception('Switching volume %s failed: back to the source',
                          migration['volume_id'])
            self._roll_back(context, migration, instance, error.message)
            raise error from e
        self._finishing.add(migration['id'])
        threading.Thread(target=self._finish_volume_migration,
                         args=(context, migration, instance),
                         name='volume-migration-%s' % migration['id'],
                         daemon=True).start()

    def _finish_volume_migration(self, context, migration, instance):
        try:
            self.driver.finish_volume_migration(
                instance, migration, self._progress_recorder(context,
                                                             migration))
        except Exception as e:
            LOG.exception('Finishing the switch of volume %s failed',
                          migration['volume_id'])
            self._end_migration(context, migration, migration_states.FAIL,
                                self._as_volmig_error(e).message)
        else:
            self._end_migration(context, migration,
                                migration_states.COMPLETED_OK)
        finally:
            self._finishing.discard(migration['id'])

    def _roll_back(self, context, migration, instance, error):
        """Back to the source after a failure; the record ends in error."""
        try:
            self.driver.cancel_volume_migration(
                instance, migration, self._progress_recorder(context,
                                                             migration))
        except Exception:
            LOG.exception('Going back to the source of volume %s failed',
                          migration['volume_id'])
        self._end_migration(context, migration, migration_states.FAIL,
                            error)

    @messaging.expected_exceptions(common_exception.VolmigException)
    def complete_volume_migration(self, context, migration_id):
        self._complete(context, db.migration_get(context, migration_id))

    def cancel_volume_migration(self, context, migration_id):
        migration = db.migration_get(context, migration_id)
        instance = db.instance_get(context, migration['instance_uuid'])
        self._log_migration(migration, 'going back to the source')
        try:
            self.driver.cancel_volume_migration(
                instance, migration, self._progress_recorder(context,
                                                             migration))
        except Exception as e:
            LOG.exception('Cancelling the migration of volume %s failed',
                          migration['volume_id'])
            self._end_migration(context, migration, migration_states.FAIL,
                                self._as_volmig_error(e).message)
            return
        self._end_migration(context, migration,
                            migration_states.CANCELLED_OK)

    def _recover_volume_migrations(self):
        """Finishes or rolls back what a restart interrupted.

        ``started`` migrations wait for Cinder and need nothing. A start
        that never answered is rolled back: its caller took it as failed.
        """
        context = volmig_context.get_admin_context()
        unfinished = db.migration_get_all(
            context, host=self.host,
            statuses=(migration_states.STARTING,
                      migration_states.COMPLETING,
                      migration_states.CANCELLING))
        for migration in unfinished:
            self._log_migration(migration, 'recovering from %s',
                                migration['status'])
            threading.Thread(target=self._recover_volume_migration,
                             args=(context, migration),
                             name='recover-migration-%s' % migration['id'],
                             daemon=True).start()

    def _recover_volume_migration(self, context, migration):
        status = migration['status']
        try:
            if status == migration_states.COMPLETING:
                self._complete(context, migration)
            elif status == migration_states.CANCELLING:
                self.cancel_volume_migration(context, migration['id'])
            else:
                instance = db.instance_get(context,
                                           migration['instance_uuid'])
                self._roll_back(context, migration, instance,
                                'the compute service restarted during start')
        except Exception:
            LOG.exception('Recovering the migration of volume %s failed',
                          migration['volume_id'])

    # -- periodic ---------------------------------------------------------

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
