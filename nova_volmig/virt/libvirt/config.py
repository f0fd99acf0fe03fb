"""The libvirt XML of volmig guests, built in this one place."""

from xml.etree import ElementTree as ET


def _sub(parent, tag, text=None, **attrib):
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def domain(name, uuid, virt_type, memory_mb, vcpus, kernel, initrd,
           cmdline, console_path):
    """A direct-boot guest with no NIC and no root disk.

    ACPI is what lets the guest kernel see hot-plugged virtio disks.  The
    serial console goes to a file (appended across boots) that
    os-getConsoleOutput reads.
    """
    root = ET.Element('domain', type=virt_type)
    _sub(root, 'name', name)
    _sub(root, 'uuid', uuid)
    _sub(root, 'memory', str(memory_mb), unit='MiB')
    _sub(root, 'vcpu', str(vcpus))
    os_ = _sub(root, 'os')
    _sub(os_, 'type', 'hvm', arch='x86_64', machine='pc')
    _sub(os_, 'kernel', kernel)
    _sub(os_, 'initrd', initrd)
    _sub(os_, 'cmdline', cmdline)
    features = _sub(root, 'features')
    _sub(features, 'acpi')
    _sub(root, 'on_poweroff', 'destroy')
    _sub(root, 'on_reboot', 'restart')
    _sub(root, 'on_crash', 'destroy')
    devices = _sub(root, 'devices')
    serial = _sub(devices, 'serial', type='file')
    _sub(serial, 'source', path=console_path, append='on')
    _sub(serial, 'target', port='0')
    console = _sub(devices, 'console', type='file')
    _sub(console, 'source', path=console_path, append='on')
    _sub(console, 'target', type='serial', port='0')
    return ET.tostring(root, encoding='unicode')


def file_disk(source_path, target_dev, serial, driver_format='raw'):
    """A volume given as a file, as the guest sees it: a virtio disk.

    cache='none' with native AIO so the guest's direct writes really reach
    the file before they are acknowledged.
    """
    disk = ET.Element('disk', type='file', device='disk')
    _sub(disk, 'driver', name='qemu', type=driver_format, cache='none',
         io='native')
    _sub(disk, 'source', file=source_path)
    _sub(disk, 'target', dev=target_dev, bus='virtio')
    _sub(disk, 'serial', serial)
    return ET.tostring(disk, encoding='unicode')


def disk_targets(domain_xml):
    """Target device names (``vda``, ...) of the disks in ``domain_xml``."""
    root = ET.fromstring(domain_xml)
    return [target.get('dev')
            for target in root.findall('./devices/disk/target')]


def disk_by_target(domain_xml, target_dev):
    """The ``<disk>`` XML of one target device, or None."""
    root = ET.fromstring(domain_xml)
    for disk in root.findall('./devices/disk'):
        target = disk.find('target')
        if target is not None and target.get('dev') == target_dev:
            return ET.tostring(disk, encoding='unicode')
    return None


def _disk_element(root, target_dev):
    for disk in root.findall('./devices/disk'):
        target = disk.find('target')
        if target is not None and target.get('dev') == target_dev:
            return disk
    return None


def disk_source(domain_xml, target_dev):
    """The file a disk reads and writes now (its top layer), or None."""
    disk = _disk_element(ET.fromstring(domain_xml), target_dev)
    if disk is None:
        return None
    source = disk.find('source')
    return None if source is None else source.get('file')


def disk_files(domain_xml):
    """Every file the disks of ``domain_xml`` name: sources, backing
    chains and block job destinations."""
    root = ET.fromstring(domain_xml)
    return {source.get('file')
            for disk in root.findall('./devices/disk')
            for source in disk.iter('source')
            if source.get('file')}


def disk_format(domain_xml, target_dev):
    """The driver type (``raw``, ``qcow2``) of a disk's top layer."""
    disk = _disk_element(ET.fromstring(domain_xml), target_dev)
    driver = None if disk is None else disk.find('driver')
    return None if driver is None else driver.get('type')


def disk_mirror(domain_xml, target_dev):
    """(job, file) of a disk's block job as the live XML shows it: the
    job is ``copy`` or ``active-commit``, the file what it writes into.
    (None, None) without a job."""
    disk = _disk_element(ET.fromstring(domain_xml), target_dev)
    mirror = None if disk is None else disk.find('mirror')
    if mirror is None:
        return None, None
    source = mirror.find('source')
    return mirror.get('job'), (mirror.get('file') if source is None
                               else source.get('file'))


def mirror_ready(domain_xml, target_dev):
    """Whether a disk's block job has reached its ready phase, in which
    libvirt accepts a pivot. Copying every byte (cur == end) comes first:
    libvirt refuses a pivot until QEMU has also declared the job ready."""
    disk = _disk_element(ET.fromstring(domain_xml), target_dev)
    mirror = None if disk is None else disk.find('mirror')
    return mirror is not None and mirror.get('ready') == 'yes'


def with_disk_source(domain_xml, target_dev, source_path, driver_format):
    """``domain_xml`` with one disk pointing at a single file, no chain."""
    root = ET.fromstring(domain_xml)
    disk = _disk_element(root, target_dev)
    disk.find('source').set('file', source_path)
    disk.find('driver').set('type', driver_format)
    for backing in disk.findall('backingStore'):
        disk.remove(backing)
    return ET.tostring(root, encoding='unicode')


def disk_only_snapshot(domain_xml, target_dev, overlay_path):
    """An external snapshot of one disk into ``overlay_path`` (qcow2).

    Every other disk is left out of the snapshot.
    """
    snapshot = ET.Element('domainsnapshot')
    disks = _sub(snapshot, 'disks')
    for dev in disk_targets(domain_xml):
        if dev == target_dev:
            disk = _sub(disks, 'disk', name=dev, snapshot='external',
                        type='file')
            _sub(disk, 'driver', type='qcow2')
            _sub(disk, 'source', file=overlay_path)
        else:
            _sub(disks, 'disk', name=dev, snapshot='no')
    return ET.tostring(snapshot, encoding='unicode')


def copy_destination(path, driver_format):
    """The ``<disk>`` a block copy writes into."""
    disk = ET.Element('disk', type='file')
    _sub(disk, 'source', file=path)
    _sub(disk, 'driver', type=driver_format)
    return ET.tostring(disk, encoding='unicode')
