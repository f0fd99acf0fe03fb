"""A thin wrapper of one libvirt domain: method names are the operation."""

import libvirt

from nova_volmig import exception
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


class BlockJobInfo:
    """What libvirt says of a disk's running block job."""

    def __init__(self, info):
        self.type = info['type']
        self.cur = info['cur']
        self.end = info['end']


class BlockDevice:
    """One disk of a running guest and its block jobs."""

    def __init__(self, domain, target, events):
        self._domain = domain
        self._target = target
        self._events = events

    def job(self):
        """The running block job, or None."""
        info = self._domain.blockJobInfo(self._target, 0)
        return BlockJobInfo(info) if info else None

    def mirror(self):
        """(kind, file) of the running job, per the live XML: ``copy`` or
        ``active-commit``, and the file it writes into."""
        return config.disk_mirror(self._domain.XMLDesc(0), self._target)

    def copy_shallow(self, dest_path, driver_format, bandwidth_mib=0):
        """Mirrors the top layer into an existing ``dest_path``.

        Only the top layer's data moves: ``dest_path`` already has a
        backing chain holding the same data as the disk's own. Once the
        job is ready, a guest write completes only once both files have
        it: either can be booted on until the pivot.
        """
        # blockCopy takes bytes/s, unlike blockCommit.
        params = ({libvirt.VIR_DOMAIN_BLOCK_COPY_BANDWIDTH:
                   bandwidth_mib << 20} if bandwidth_mib else None)
        flags = 0
        flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_SHALLOW
        flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT
        flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB
        flags |= libvirt.VIR_DOMAIN_BLOCK_COPY_SYNCHRONOUS_WRITES
        self._events.forget(self._domain.name(), self._target)
        self._domain.blockCopy(
            self._target, config.copy_destination(dest_path, driver_format),
            params, flags)

    def commit_active(self, bandwidth_mib=0):
        """Commits the top layer into its backing file, guest running."""
        flags = 0
        flags |= libvirt.VIR_DOMAIN_BLOCK_COMMIT_ACTIVE
        self._events.forget(self._domain.name(), self._target)
        self._domain.blockCommit(self._target, None, None, bandwidth_mib,
                                 flags)

    def wait_ready(self, timeout, progress=None):
        """Waits until the job mirrors every write and may be pivoted."""
        def ready(status):
            if status in (libvirt.VIR_DOMAIN_BLOCK_JOB_FAILED,
                          libvirt.VIR_DOMAIN_BLOCK_JOB_CANCELED):
                raise exception.BlockJobFailed(
                    disk=self._target, domain=self._domain.name())
            job = self.job()
            if job is None:
                raise exception.BlockJobFailed(
                    disk=self._target, domain=self._domain.name())
            if progress is not None and job.end:
                progress(job.cur, job.end)
            # Without the event (yet), the live XML tells.
            return status == libvirt.VIR_DOMAIN_BLOCK_JOB_READY or (
                status is None and config.mirror_ready(
                    self._domain.XMLDesc(0), self._target))
        if not self._events.wait(self._domain.name(), self._target, ready,
                                 timeout):
            raise exception.BlockJobTimeout(disk=self._target,
                                            domain=self._domain.name(),
                                            timeout=timeout)

    def pivot(self, timeout):
        """Switches the disk to the job's destination and ends the job."""
        flags = 0
        flags |= libvirt.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT
        self._domain.blockJobAbort(self._target, flags)
        self._wait_gone(timeout)

    def abort(self, timeout):
        """Ends the job; the disk stays where it was."""
        self._domain.blockJobAbort(self._target, 0)
        self._wait_gone(timeout)

    def _wait_gone(self, timeout):
        if not self._events.wait(self._domain.name(), self._target,
                                 lambda _status: self.job() is None,
                                 timeout, recheck_interval=0.1):
            raise exception.BlockJobTimeout(disk=self._target,
                                            domain=self._domain.name(),
                                            timeout=timeout)


class Guest:
    def __init__(self, domain, block_job_events):
        # A domain whose libvirt errors are already translated (host.py).
        self._domain = domain
        self._block_job_events = block_job_events

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

    def resume(self):
        self._domain.resume()

    def is_paused_on_io_error(self):
        """Paused by QEMU because a write failed (a full disk): it goes on
        once resumed, the write tried again."""
        state, reason = self._domain.state()
        return (state == libvirt.VIR_DOMAIN_PAUSED
                and reason == libvirt.VIR_DOMAIN_PAUSED_IOERROR)

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

    def get_disk_source(self, target_dev, inactive=False):
        return config.disk_source(self.get_xml_desc(inactive=inactive),
                                  target_dev)

    def get_disk_format(self, target_dev, inactive=False):
        return config.disk_format(self.get_xml_desc(inactive=inactive),
                                  target_dev)

    def get_block_device(self, target_dev):
        return BlockDevice(self._domain, target_dev, self._block_job_events)

    def snapshot_disk(self, target_dev, overlay_path):
        """Puts a pre-created qcow2 overlay on top of one disk, atomically.

        No snapshot metadata is kept: the overlay is ours to manage.
        """
        flags = 0
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_ATOMIC
        flags |= libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT
        self._domain.snapshotCreateXML(
            config.disk_only_snapshot(self.get_xml_desc(), target_dev,
                                      overlay_path), flags)
