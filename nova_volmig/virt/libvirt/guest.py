"""A thin wrapper of one libvirt domain: method names are the operation."""

import libvirt

from nova_volmig.compute import states
from nova_volmig.virt.libvirt import config

_POWER_STATES = {
    libvirt.VIR_DOMAIN_NOSTATE: states.NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: states.RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: states.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: states.PAUSED,
    # Still running while it shuts down.
    libvirt.VIR_DOMAIN_SHUTDOWN: states.RUNNING,
    libvirt.VIR_DOMAIN_SHUTOFF: states.SHUTDOWN,
    libvirt.VIR_DOMAIN_CRASHED: states.CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: states.SUSPENDED,
}


def _device_flags(live, config):
    flags = 0
    if live:
        flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
    if config:
        flags |= libvirt.VIR_DOMAIN_AFFECT_CONFIG
    return flags


class Guest:
    def __init__(self, domain):
        # A domain whose libvirt errors are already translated (host.py).
        self._domain = domain

    @property
    def name(self):
        return self._domain.name()

    def launch(self):
        self._domain.create()

    def shutdown(self):
        """Asks the guest OS to power off (ACPI); does not wait."""
        self._domain.shutdown()

    def destroy(self):
        self._domain.destroy()

    def undefine(self):
        self._domain.undefine()

    def is_active(self):
        return bool(self._domain.isActive())

    def get_power_state(self):
        state, _reason = self._domain.state()
        return _POWER_STATES.get(state, states.NOSTATE)

    def get_xml_desc(self, inactive=False):
        flags = 0
        if inactive:
            flags |= libvirt.VIR_DOMAIN_XML_INACTIVE
        return self._domain.XMLDesc(flags)

    def get_disk_targets(self, inactive=False):
        return config.disk_targets(self.get_xml_desc(inactive=inactive))

    def get_disk_xml(self, target_dev, inactive=False):
        return config.disk_by_target(self.get_xml_desc(inactive=inactive),
                                     target_dev)

    def attach_device(self, xml, live, config):
        self._domain.attachDeviceFlags(xml, _device_flags(live, config))

    def detach_device(self, xml, live, config):
        self._domain.detachDeviceFlags(xml, _device_flags(live, config))
