"""The libvirt compute driver: persistent, direct-boot QEMU guests."""

import os
import shutil
import time

from oslo_log import log as logging

from nova_volmig import exception
from nova_volmig.compute import states
from nova_volmig.virt import driver
from nova_volmig.virt.libvirt import config
from nova_volmig.virt.libvirt import host as libvirt_host

LOG = logging.getLogger(__name__)

DOMAIN_PREFIX = 'volmig-'
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
