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
