"""What the compute manager needs from a hypervisor."""

import importlib

_DRIVERS = {'libvirt': 'nova_volmig.virt.libvirt.driver.LibvirtDriver'}


# Modes of a volume migration.
LIVE = 'live'          # the guest runs and writes to an overlay meanwhile
OFFLINE = 'offline'    # the guest is shut off

ON_SOURCE = 'source'
ON_OVERLAY = 'overlay'
ON_DESTINATION = 'destination'


class ComputeDriver:
    """The operations a hypervisor offers for instances and their disks.

    Instances are the dicts of nova_volmig.db.api; images and flavors those
    of nova_volmig.catalog.
    """

    # Whether a volume of a running instance can be moved without
    # stopping it; the volume-migration API decides its mode from this.
    capabilities = {'supports_live_volume_migration': False}

    def init_host(self, host):
        """Prepares the hypervisor; called once when the service starts."""

    def spawn(self, instance, image):
        raise NotImplementedError()

    def power_off(self, instance, timeout):
        """Stops the guest, forcefully after ``timeout`` seconds."""
        raise NotImplementedError()

    def power_on(self, instance):
        raise NotImplementedError()

    def reboot(self, instance, hard, timeout):
        raise NotImplementedError()

    def destroy(self, instance):
        """Removes the guest and its local files; no error if absent."""
        raise NotImplementedError()

    def get_power_state(self, instance):
        """A nova_volmig.compute.states power state."""
        raise NotImplementedError()

    def get_console_output(self, instance):
        raise NotImplementedError()

    def attach_volume(self, instance, connection_info, device_name,
                      volume_id):
        """Plugs a volume into the guest and its persistent definition."""
        raise NotImplementedError()

    def detach_volume(self, instance, device_name):
        """Unplugs a disk; returns once the guest no longer uses it."""
        raise NotImplementedError()

    # Volume migration. ``migration`` is a record of nova_volmig.db.api.
    # Each step finds out from the hypervisor how far it already got, so
    # running it again (a retry, or recovery after a restart) is safe.

    def locate_volume_migration(self, instance, migration):
        """Where the migrated disk's writes go now, running or not: one
        of ON_SOURCE, ON_OVERLAY (suspended: neither volume is written)
        and ON_DESTINATION."""
        raise NotImplementedError()

    def start_volume_migration(self, instance, migration):
        """Returns the mode once nothing writes to the source any more.

        Raises VolumeMigrationNotPossible when writes cannot be suspended.
        """
        raise NotImplementedError()

    def switch_volume_migration(self, instance, migration):
        """Makes the disk use the destination; returns once the source is
        no longer used (the rest is finish_volume_migration's)."""
        raise NotImplementedError()

    def finish_volume_migration(self, instance, migration, progress):
        """Completes the switch; ``progress(percent)`` as it goes."""
        raise NotImplementedError()

    def cancel_volume_migration(self, instance, migration, progress):
        """Brings the disk back to the source with every write made since
        start."""
        raise NotImplementedError()


def load_driver(conf):
    module, _, name = _DRIVERS[conf.compute.compute_driver].rpartition('.')
    return getattr(importlib.import_module(module), name)(conf)
