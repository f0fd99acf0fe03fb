"""The domain and disk XML of the libvirt driver."""

from xml.etree import ElementTree as ET

from nova_volmig.virt.libvirt import config


def test_domain():
    xml = ET.fromstring(config.domain(
        name='volmig-u', uuid='u', virt_type='qemu', memory_mb=256,
        vcpus=1, kernel='/k', initrd='/i', cmdline='console=ttyS0',
        console_path='/inst/u/console.log'))
    assert xml.get('type') == 'qemu'
    assert xml.findtext('name') == 'volmig-u'
    assert xml.find('memory').get('unit') == 'MiB'
    assert xml.findtext('memory') == '256'
    os_type = xml.find('os/type')
    assert (os_type.text, os_type.get('arch'), os_type.get('machine')) == (
        'hvm', 'x86_64', 'pc')
    assert xml.findtext('os/kernel') == '/k'
    assert xml.findtext('os/initrd') == '/i'
    assert xml.findtext('os/cmdline') == 'console=ttyS0'
    assert xml.find('features/acpi') is not None
    assert xml.findtext('on_poweroff') == 'destroy'
    assert xml.find('devices/serial/source').get('path') == (
        '/inst/u/console.log')
    assert xml.find('devices/console').get('type') == 'file'
    assert xml.findall('devices/disk') == []
    assert xml.findall('devices/interface') == []


def test_file_disk():
    disk = ET.fromstring(config.file_disk('/v/vol', 'vda', 'abc'))
    assert (disk.get('type'), disk.get('device')) == ('file', 'disk')
    driver = disk.find('driver')
    assert (driver.get('type'), driver.get('cache'), driver.get('io')) == (
        'raw', 'none', 'native')
    assert disk.find('source').get('file') == '/v/vol'
    assert disk.find('target').attrib == {'dev': 'vda', 'bus': 'virtio'}
    assert disk.findtext('serial') == 'abc'


def test_disk_lookup():
    domain = '<domain><devices>%s%s</devices></domain>' % (
        config.file_disk('/a', 'vda', 'a'),
        config.file_disk('/b', 'vdb', 'b'))
    assert config.disk_targets(domain) == ['vda', 'vdb']
    disk = ET.fromstring(config.disk_by_target(domain, 'vdb'))
    assert disk.find('source').get('file') == '/b'
    assert config.disk_by_target(domain, 'vdc') is None


def test_mirror_ready():
    def domain(mirror):
        disk = config.file_disk('/a', 'vda', 'a').replace(
            '</disk>', mirror + '</disk>')
        return '<domain><devices>%s</devices></domain>' % disk

    assert config.mirror_ready(domain("<mirror type='file' ready='yes'/>"),
                               'vda')
    # Copying (no ready yet), pivoting, aborting, no job, another disk.
    for mirror in ("<mirror type='file'/>",
                   "<mirror type='file' ready='pivot'/>",
                   "<mirror type='file' ready='abort'/>", ''):
        assert not config.mirror_ready(domain(mirror), 'vda'), mirror
    assert not config.mirror_ready(
        domain("<mirror type='file' ready='yes'/>"), 'vdb')
