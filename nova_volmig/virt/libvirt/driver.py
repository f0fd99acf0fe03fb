"""The libvirt compute driver: persistent, direct-boot QEMU guests."""

import json
import os
import shutil
import time

from oslo_log import log as logging

from nova_volmig import exception
from nova_volmig.compute import states
from nova_volmig.virt import driver
from nova_volmig.virt.libvirt import config
from nova_volmig.virt.libvirt import host as libvirt_host
from nova_volmig.virt.libvirt import qemu_img

LOG = logging.getLogger(__name__)

DOMAIN_PREFIX = 'volmig-'
LIVE = driver.LIVE
OFFLINE = driver.OFFLINE
CONSOLE_LOG = 'console.log'
_POLL_INTERVAL = 0.2


def domain_name(instance):
    return DOMAIN_PREFIX + instance['uuid']


def _wait(predicate, timeout):
    """Polls ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_INTERVAL)


class LibvirtDriver(driver.ComputeDriver):
    def __init__(self, conf):
        self._conf = conf
        self._host = libvirt_host.Host(conf.libvirt.connection_uri)
        self.capabilities = {
            'supports_live_volume_migration':
                conf.libvirt.live_volume_migration,
        }

    def _instance_dir(self, instance):
        return os.path.join(self._conf.libvirt.instances_path,
                            instance['uuid'])

    def _console_path(self, instance):
        return os.path.join(self._instance_dir(instance), CONSOLE_LOG)

    def _guest(self, instance):
        return self._host.get_guest(domain_name(instance))

    def init_host(self, host):
        os.makedirs(self._conf.libvirt.instances_path, exist_ok=True)
        os.makedirs(self._conf.libvirt.volume_migration_overlays_path,
                    exist_ok=True)

    def spawn(self, instance, image):
        os.makedirs(self._instance_dir(instance), exist_ok=True)
        xml = config.domain(
            name=domain_name(instance), uuid=instance['uuid'],
            virt_type=self._conf.libvirt.virt_type,
            memory_mb=instance['memory_mb'], vcpus=instance['vcpus'],
            kernel=image['kernel'], initrd=image['initrd'],
            cmdline=image['cmdline'],
            console_path=self._console_path(instance))
        guest = self._host.define_guest(xml)
        try:
            guest.launch()
        except exception.HypervisorError as e:
            raise exception.InstanceSpawnFailed(
                instance_id=instance['uuid'], reason=e.message) from e

    def power_off(self, instance, timeout):
        guest = self._guest(instance)
        if not guest.is_active():
            return
        # The guest may ignore ACPI (busybox does): it gets a short
        # chance, then is destroyed.
        if timeout > 0:
            try:
                guest.shutdown()
            except exception.HypervisorError as e:
                LOG.debug('Graceful shutdown of %s refused: %s',
                          guest.name, e.message)
            else:
                if _wait(lambda: not guest.is_active(), timeout):
                    return
        if guest.is_active():
            guest.destroy()

    def power_on(self, instance):
        guest = self._guest(instance)
        if not guest.is_active():
            guest.launch()

    def reboot(self, instance, hard, timeout):
        self.power_off(instance, 0 if hard else timeout)
        self.power_on(instance)

    def destroy(self, instance):
        try:
            guest = self._guest(instance)
        except exception.DomainNotFound:
            pass
        else:
            if guest.is_active():
                guest.destroy()
            guest.undefine()
        shutil.rmtree(self._instance_dir(instance), ignore_errors=True)

    def get_power_state(self, instance):
        try:
            return self._guest(instance).get_power_state()
        except exception.DomainNotFound:
            return states.NOSTATE

    def get_console_output(self, instance):
        try:
            with open(self._console_path(instance), 'rb') as f:
                return f.read().decode('utf-8', 'replace')
        except FileNotFoundError:
            return ''

    def attach_volume(self, instance, connection_info, device_name,
                      volume_id):
        data = connection_info['data']
        xml = config.file_disk(
            source_path=data['device_path'],
            target_dev=os.path.basename(device_name),
            serial=volume_id[:20],
            driver_format=data.get('format', 'raw'))
        guest = self._guest(instance)
        guest.attach_device(xml, live=guest.is_active(), config=True)

    def detach_volume(self, instance, device_name):
        target = os.path.basename(device_name)
        guest = self._guest(instance)
        if guest.is_active():
            self._detach_live(instance, guest, target)
        xml = guest.get_disk_xml(target, inactive=True)
        if xml is not None:
            guest.detach_device(xml, live=False, config=True)

    def _detach_live(self, instance, guest, target):
        xml = guest.get_disk_xml(target)
        if xml is None:
            return
        guest.detach_device(xml, live=True, config=False)
        # The request only asks the guest to let go (ACPI unplug); the
        # disk is gone once it left the live definition.
        timeout = self._conf.libvirt.device_detach_timeout
        if not _wait(lambda: target not in guest.get_disk_targets(),
                     timeout):
            raise exception.DeviceDetachFailed(
                device=target, instance_id=instance['uuid'],
                timeout=timeout)

    # -- volume migration -------------------------------------------------
    #
    # Live: start puts a local qcow2 overlay (backed by the read-only
    # source) on the disk; switch mirrors just that overlay into a second
    # one backed by the destination (which holds the same data as the
    # source) and pivots, which frees the source; finish commits the
    # second overlay into the destination. Cancel commits the first
    # overlay back into the source.
    #
    # The persistent definition always names the file the guest writes,
    # overlays included: a guest that stops (powers off, QEMU dies, the
    # host reboots) boots again on its overlay, never on the read-only
    # file behind it. A step that finds the guest shut off does the same
    # work on the files with qemu-img. Which file the disk uses tells each
    # step how far it got, and no file is removed while a definition
    # names it.

    def _migration_files(self, instance, migration):
        """(target, source, destination, overlay, destination overlay)."""
        def path(info):
            return json.loads(info)['data']['device_path'] if info else None
        base = os.path.join(
            self._conf.libvirt.volume_migration_overlays_path,
            '%s-%s' % (instance['uuid'], migration['id']))
        return (os.path.basename(migration['device_name']),
                path(migration['source_connection_info']),
                path(migration['new_connection_info']),
                base + '.qcow2', base + '-destination.qcow2')

    def _point_persistent_disk(self, guest, target, path):
        """Makes the persistent definition use ``path`` for the disk.

        libvirt updates it on its own only in some cases: check, and
        rewrite it when it is not right.
        """
        driver_format = 'qcow2' if path.endswith('.qcow2') else 'raw'
        if (guest.get_disk_source(target, inactive=True) != path
                or guest.get_disk_format(target, inactive=True)
                != driver_format):
            self._host.define_guest(config.with_disk_source(
                guest.get_xml_desc(inactive=True), target, path,
                driver_format))

    def _commit_and_pivot(self, guest, target, base, progress):
        """Commits the disk's top layer into ``base`` with the guest
        running, and pivots onto ``base``; only a commit into ``base`` is
        ever pivoted."""
        device = guest.get_block_device(target)
        timeout = self._conf.libvirt.block_job_timeout
        commit = ('active-commit', base)
        if device.job() is not None and device.mirror() != commit:
            # A job this step did not start, such as a copy an interrupted
            # switch left: pivoting it would move the disk elsewhere.
            self._abort_job(guest, target, device)
        if device.job() is None:
            device.commit_active(
                self._conf.libvirt.volume_migration_commit_bandwidth)
        device.wait_ready(timeout, lambda cur, end: progress(
            int(100 * cur / end)))
        if device.mirror() != commit:
            raise exception.HypervisorError(
                reason='the block job of disk %s is %s, not a commit into '
                       '%s' % (target, device.mirror(), base))
        device.pivot(timeout)

    def _abort_job(self, guest, target, device):
        """Ends a block job without pivoting: the disk stays on its top
        file, which the persistent definition names first, as the job's
        destination stops getting writes."""
        self._point_persistent_disk(guest, target,
                                    guest.get_disk_source(target))
        device.abort(self._conf.libvirt.block_job_timeout)

    def _commit_offline(self, overlay, base):
        """Commits a shut-off guest's ``overlay`` into ``base``."""
        if qemu_img.backing_file(overlay) != base:
            # Only once Cinder's copy is done: base and the overlay's
            # backing file hold the same data.
            qemu_img.rebase_unsafe(overlay, base)
        qemu_img.commit(overlay,
                        self._conf.libvirt.volume_migration_commit_bandwidth)

    def _remove_unreferenced(self, guest, *paths):
        """Removes migration files no definition, live or persistent,
        names; refuses to remove one that is named."""
        named = config.disk_files(guest.get_xml_desc(inactive=True))
        if guest.is_active():
            named |= config.disk_files(guest.get_xml_desc())
        still_named = sorted(set(paths) & named)
        if still_named:
            raise exception.HypervisorError(
                reason='%s still used by %s' % (', '.join(still_named),
                                                 guest.name))
        for path in paths:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass

    def _check_overlays_space(self, needed, what):
        """Raises ``VolumeMigrationNoSpace`` unless ``needed`` bytes leave
        the configured reserve free where the overlays live."""
        path = self._conf.libvirt.volume_migration_overlays_path
        stat = os.statvfs(path)
        free = stat.f_bavail * stat.f_frsize
        reserve = self._conf.libvirt.volume_migration_overlays_reserve << 20
        if free - needed < reserve:
            raise exception.VolumeMigrationNoSpace(
                what=what, free=free >> 20, needed=needed >> 20,
                reserve=reserve >> 20)

    def _resume_if_paused_on_io_error(self, guest):
        """A guest paused because its overlay's disk filled up goes on
        once its disk is off the overlay."""
        if guest.is_paused_on_io_error():
            LOG.warning('Resuming %s, paused on a write error while its '
                        'volume migrated', guest.name)
            guest.resume()

    def _disk_source(self, guest, target):
        """(running, file): the file the disk uses now, per the live
        definition while the guest runs, else per the persistent one."""
        running = guest.is_active()
        return running, guest.get_disk_source(target, inactive=not running)

    def locate_volume_migration(self, instance, migration):
        target, source, dest, overlay, dest_overlay = (
            self._migration_files(instance, migration))
        _running, current = self._disk_source(self._guest(instance), target)
        if current == overlay:
            return driver.ON_OVERLAY
        if dest is not None and current in (dest_overlay, dest):
            return driver.ON_DESTINATION
        if current == source:
            return driver.ON_SOURCE
        raise exception.HypervisorError(
            reason='disk %s uses %s, a file of no step of the migration'
                   % (target, current))

    def start_volume_migration(self, instance, migration):
        target, source, _dest, overlay, _ = self._migration_files(
            instance, migration)
        guest = self._guest(instance)
        running, current = self._disk_source(guest, target)
        if current == overlay:
            # A retry, or the guest stopped since: boot it on the overlay.
            self._point_persistent_disk(guest, target, overlay)
            return LIVE
        if current != source:
            raise exception.HypervisorError(
                reason='disk %s uses %s, not the migration\'s source %s'
                       % (target, current, source))
        if not running:
            return OFFLINE
        if not self.capabilities['supports_live_volume_migration']:
            raise exception.VolumeMigrationNotPossible(
                attachment_id=migration['attachment_id'],
                reason='the server is running and this hypervisor cannot '
                       'migrate its volumes live; stop it first.')
        self._remove_unreferenced(guest, overlay)
        self._check_overlays_space(0, 'start')
        qemu_img.create_overlay(overlay, source)
        guest.snapshot_disk(target, overlay)
        self._point_persistent_disk(guest, target, overlay)
        return LIVE

    def switch_volume_migration(self, instance, migration):
        target, source, dest, overlay, dest_overlay = (
            self._migration_files(instance, migration))
        guest = self._guest(instance)
        running, current = self._disk_source(guest, target)
        if migration['mode'] == OFFLINE:
            if current not in (source, dest):
                raise exception.HypervisorError(
                    reason='disk %s uses %s, neither the source %s nor the '
                           'destination %s' % (target, current, source,
                                               dest))
            self._point_persistent_disk(guest, target, dest)
            return
        if current not in (dest_overlay, dest):
            if current != overlay:
                raise exception.HypervisorError(
                    reason='disk %s uses %s, not the migration overlay %s'
                           % (target, current, overlay))
            if running:
                current = self._switch_live(guest, target, dest, overlay,
                                            dest_overlay)
            else:
                self._switch_offline(guest, target, dest, overlay,
                                     dest_overlay)
                current = dest_overlay
        self._point_persistent_disk(guest, target, current)

    def _switch_live(self, guest, target, dest, overlay, dest_overlay):
        """Moves a running guest's disk onto the destination overlay;
        returns the file the disk uses then. A guest that stops on the
        way boots on the file the persistent definition names, which
        holds every write: the switch goes on offline from there."""
        try:
            self._copy_and_pivot(guest, target, dest, dest_overlay)
        except Exception:
            if guest.is_active():
                raise
            _running, current = self._disk_source(guest, target)
            LOG.warning('%s stopped while disk %s switched to the '
                        'destination; it boots on %s', guest.name, target,
                        current)
            if current == overlay:
                self._switch_offline(guest, target, dest, overlay,
                                     dest_overlay)
            elif current != dest_overlay:
                raise
        return dest_overlay

    def _copy_and_pivot(self, guest, target, dest, dest_overlay):
        device = guest.get_block_device(target)
        timeout = self._conf.libvirt.block_job_timeout
        copy = ('copy', dest_overlay)
        if device.mirror() != copy:
            if device.job() is not None:
                self._abort_job(guest, target, device)
            self._remove_unreferenced(guest, dest_overlay)
            # The copy of the overlay needs as much room again.
            self._check_overlays_space(
                os.stat(guest.get_disk_source(target)).st_blocks * 512,
                'the destination overlay')
            qemu_img.create_overlay(dest_overlay, dest)
            device.copy_shallow(
                dest_overlay, 'qcow2',
                self._conf.libvirt.volume_migration_switch_bandwidth)
        # Else the copy an interrupted switch started: it goes on.
        device.wait_ready(timeout)
        if device.mirror() != copy:
            raise exception.HypervisorError(
                reason='the block job of disk %s is %s, not the copy into '
                       '%s' % (target, device.mirror(), dest_overlay))
        # Both files hold every write now: a guest that stops before or
        # after the pivot boots on the one it goes on with.
        self._point_persistent_disk(guest, target, dest_overlay)
        device.pivot(timeout)

    def _switch_offline(self, guest, target, dest, overlay, dest_overlay):
        """The overlay itself moves onto the destination: a new backing
        file in its header, and a second name for the file, so that the
        definition never names a file that is not there."""
        qemu_img.rebase_unsafe(overlay, dest)
        self._remove_unreferenced(guest, dest_overlay)
        os.link(overlay, dest_overlay)

    def finish_volume_migration(self, instance, migration, progress):
        target, _source, dest, overlay, dest_overlay = (
            self._migration_files(instance, migration))
        guest = self._guest(instance)
        running, current = self._disk_source(guest, target)
        if current == dest_overlay:
            if running:
                self._commit_and_pivot(guest, target, dest, progress)
            else:
                self._commit_offline(dest_overlay, dest)
        elif current != dest:
            raise exception.HypervisorError(
                reason='disk %s uses %s, not the destination %s'
                       % (target, current, dest))
        self._point_persistent_disk(guest, target, dest)
        self._remove_unreferenced(guest, overlay, dest_overlay)
        if running:
            self._resume_if_paused_on_io_error(guest)

    def cancel_volume_migration(self, instance, migration, progress):
        target, source, dest, overlay, dest_overlay = (
            self._migration_files(instance, migration))
        guest = self._guest(instance)
        running, current = self._disk_source(guest, target)
        if dest is not None and current in (dest_overlay, dest):
            raise exception.HypervisorError(
                reason='disk %s already uses the destination' % target)
        if current == overlay:
            if running:
                self._commit_and_pivot(guest, target, source, progress)
            else:
                self._commit_offline(overlay, source)
        elif current != source:
            raise exception.HypervisorError(
                reason='disk %s uses %s, not the source %s'
                       % (target, current, source))
        self._point_persistent_disk(guest, target, source)
        self._remove_unreferenced(guest, overlay, dest_overlay)
        if running:
            self._resume_if_paused_on_io_error(guest)
