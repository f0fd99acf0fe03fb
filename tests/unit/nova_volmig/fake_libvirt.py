"""A small fake of the libvirt layer, for unit tests of the driver's logic.

``FakeHost``, ``FakeGuest`` and ``FakeBlockDevice`` offer the methods of
nova_volmig.virt.libvirt's host, guest and block device that the driver
calls. Images are real files (under a test's tmp_path) holding a small
JSON document: their format, their backing file (qcow2) and the blocks
written into them. So the driver's own file handling (``os.link``,
``os.unlink``) works on them, two names of one file share its data, and a
test can tell which writes a volume ends up with (``contents``).

As libvirt does (with -blockdev), an external snapshot and a pivot also
move the persistent definition's disk when it named the disk's previous
top layer; ``config_follows_live = False`` turns that off, for the
driver's own rewrite to be seen.

Every call with an effect is recorded in ``FakeHost.calls`` as
``(name, *args)``; faults hook onto a call by its name or its index in
that list: it raises, the guest stops, or the compute service
"stops" (``Interrupted``), before or after the call takes effect.
"""

import json
import os
import types
from xml.etree import ElementTree as ET

from oslo_concurrency import processutils

from nova_volmig import exception
from nova_volmig.compute import states
from nova_volmig.virt.libvirt import config

RAW = 'raw'
QCOW2 = 'qcow2'


class Interrupted(Exception):
    """The compute service stopped at this call (a test's fault)."""


# -- images ---------------------------------------------------------------

def read_image(path):
    with open(path) as f:
        return json.load(f)


def _write_image(path, image):
    # Rewritten in place: every hard link of the file sees the change.
    with open(path, 'w') as f:
        json.dump(image, f)


def make_raw(path, blocks=None):
    """A raw volume at ``path`` holding ``blocks`` ({block: value})."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    _write_image(path, {'format': RAW, 'backing': None,
                        'blocks': dict(blocks or {})})


def write_blocks(path, blocks):
    """Writes ``blocks`` into the one image ``path`` (not its chain)."""
    image = read_image(path)
    image['blocks'].update(blocks)
    _write_image(path, image)


def image_format(path):
    return read_image(path)['format']


def header_chain(path):
    """``path`` and the backing files its header names, top first."""
    chain = []
    while path is not None:
        chain.append(path)
        path = read_image(path)['backing']
    return chain


def contents(path):
    """What a reader of ``path`` sees: its blocks over its backing's."""
    blocks = {}
    for layer in reversed(header_chain(path)):
        blocks.update(read_image(layer)['blocks'])
    return blocks


# -- the hypervisor -------------------------------------------------------

class _Fault:
    def __init__(self, action, call=None, index=None, after=False, times=1):
        self.action = action
        self.call = call
        self.index = index
        self.after = after
        self.times = times

    def matches(self, name, index, after):
        return (self.times > 0 and self.after == after
                and (self.call is None or self.call == name)
                and (self.index is None or self.index == index))


class FakeHost:
    """libvirtd with its guests, plus the faults a test injects."""

    def __init__(self):
        self.guests = {}
        self.calls = []
        # Removals the driver attempted of a file a definition named.
        self.violations = []
        self._faults = []

    def add_guest(self, name, uuid, disks, active=True):
        """A persistent guest; ``disks`` maps targets to raw files."""
        guest = FakeGuest(self, name, uuid)
        for target, path in disks.items():
            guest.persistent[target] = (path, image_format(path))
        self.guests[name] = guest
        if active:
            guest.launch()
        self.calls.clear()
        return guest

    # The methods of host.Host the driver uses.

    def get_guest(self, name):
        try:
            return self.guests[name]
        except KeyError:
            raise exception.DomainNotFound(name=name) from None

    def define_guest(self, xml):
        root = ET.fromstring(xml)
        guest = self.get_guest(root.findtext('name'))
        disks = {target: (config.disk_source(xml, target),
                          config.disk_format(xml, target))
                 for target in config.disk_targets(xml)}

        def define():
            guest.persistent = disks
        self.record('define_guest', (guest.name, disks), define)
        return guest

    # What every definition names.

    def named_files(self):
        named = set()
        for guest in self.guests.values():
            named |= config.disk_files(guest.get_xml_desc(inactive=True))
            if guest.is_active():
                named |= config.disk_files(guest.get_xml_desc())
        return named

    def locked_files(self):
        """Files a running QEMU holds open."""
        return {path for guest in self.guests.values()
                for disk in guest.live.values()
                for path in disk.files()}

    # Faults.

    def on(self, action, call=None, index=None, after=False, times=1):
        """Runs ``action()`` at a call, before (or after) its effect."""
        self._faults.append(_Fault(action, call, index, after, times))

    def fail(self, call, error=None, after=False, times=1):
        """The call raises ``error`` (a HypervisorError by default)."""
        def action():
            raise error or exception.HypervisorError(
                reason='injected failure of %s' % call)
        self.on(action, call=call, after=after, times=times)

    def interrupt(self, index=None, call=None, after=False):
        """The compute service stops at the ``index``-th call, or at
        the first one named ``call``."""
        def action():
            raise Interrupted('at %s' % (self.calls[-1],))
        self.on(action, call=call, index=index, after=after)

    def clear_faults(self):
        del self._faults[:]

    def record(self, name, args, effect):
        """Records a call and runs its effect amid the faults hooked on."""
        index = len(self.calls)
        self.calls.append((name,) + tuple(args))
        self._fire(name, index, after=False)
        try:
            result = effect()
        finally:
            # Also after a call that failed (a file that was not there).
            self._fire(name, index, after=True)
        return result

    def _fire(self, name, index, after):
        for fault in self._faults:
            if fault.matches(name, index, after):
                fault.times -= 1
                fault.action()

    def names(self):
        """The name of every call so far, in order."""
        return [call[0] for call in self.calls]


class _Job:
    def __init__(self, kind, dest, dest_format):
        self.kind = kind          # 'copy' or 'active-commit'
        self.dest = dest
        self.dest_format = dest_format
        self.ready = False


class _LiveDisk:
    def __init__(self, chain):
        self.chain = chain        # [(path, format)], top first
        self.job = None

    @property
    def top(self):
        return self.chain[0][0]

    def files(self):
        files = {path for path, _fmt in self.chain}
        if self.job is not None:
            files.add(self.job.dest)
        return files


def _live_chain(path, driver_format):
    """The chain QEMU opens for a disk: the file, then its header's."""
    if not os.path.exists(path):
        raise exception.HypervisorError(
            reason='Cannot access storage file %s' % path)
    if driver_format != image_format(path):
        raise exception.HypervisorError(
            reason='%s is not a %s image' % (path, driver_format))
    return [(layer, image_format(layer)) for layer in header_chain(path)]


class FakeGuest:
    """A persistent domain: its definition, and while it runs, its live
    disks and their block jobs."""

    config_follows_live = True

    def __init__(self, host, name, uuid):
        self._host = host
        self.name = name
        self.uuid = uuid
        self.persistent = {}      # target -> (path, format)
        self.live = {}            # target -> _LiveDisk, while active
        # QEMU paused it: a write failed (its overlay's disk is full).
        self.paused_on_io_error = False

    def is_active(self):
        return bool(self.live)

    def is_paused_on_io_error(self):
        return self.is_active() and self.paused_on_io_error

    def resume(self):
        self.paused_on_io_error = False

    def get_power_state(self):
        return states.RUNNING if self.is_active() else states.SHUTDOWN

    def launch(self):
        def launch():
            if self.is_active():
                raise exception.HypervisorError(
                    reason='domain is already running')
            self.live = {target: _LiveDisk(_live_chain(path, fmt))
                         for target, (path, fmt) in self.persistent.items()}
        self._host.record('launch', (self.name,), launch)

    def destroy(self):
        self._host.record('destroy', (self.name,), self.stop)

    def stop(self):
        """The guest stops (powered off, QEMU died, host rebooted): its
        live definition and block jobs are gone."""
        self.live = {}

    def get_xml_desc(self, inactive=False):
        root = ET.Element('domain', type='qemu')
        ET.SubElement(root, 'name').text = self.name
        ET.SubElement(root, 'uuid').text = self.uuid
        devices = ET.SubElement(root, 'devices')
        if inactive or not self.is_active():
            for target, (path, fmt) in sorted(self.persistent.items()):
                devices.append(ET.fromstring(config.file_disk(
                    path, target, 'serial-' + target, fmt)))
        else:
            for target, disk in sorted(self.live.items()):
                devices.append(self._live_disk_xml(target, disk))
        return ET.tostring(root, encoding='unicode')

    @staticmethod
    def _live_disk_xml(target, disk):
        path, fmt = disk.chain[0]
        element = ET.fromstring(config.file_disk(
            path, target, 'serial-' + target, fmt))
        parent = element
        for backing, backing_format in disk.chain[1:]:
            parent = ET.SubElement(parent, 'backingStore', type='file')
            ET.SubElement(parent, 'format', type=backing_format)
            ET.SubElement(parent, 'source', file=backing)
        ET.SubElement(parent, 'backingStore')
        if disk.job is not None:
            mirror = ET.SubElement(
                element, 'mirror', type='file', job=disk.job.kind,
                ready='yes' if disk.job.ready else 'no')
            ET.SubElement(mirror, 'format', type=disk.job.dest_format)
            ET.SubElement(mirror, 'source', file=disk.job.dest)
        return element

    def get_disk_targets(self, inactive=False):
        return config.disk_targets(self.get_xml_desc(inactive=inactive))

    def get_disk_xml(self, target_dev, inactive=False):
        return config.disk_by_target(self.get_xml_desc(inactive=inactive),
                                     target_dev)

    def get_disk_source(self, target_dev, inactive=False):
        return config.disk_source(self.get_xml_desc(inactive=inactive),
                                  target_dev)

    def get_disk_format(self, target_dev, inactive=False):
        return config.disk_format(self.get_xml_desc(inactive=inactive),
                                  target_dev)

    def get_block_device(self, target_dev):
        return FakeBlockDevice(self, target_dev)

    def snapshot_disk(self, target_dev, overlay_path):
        def snapshot():
            disk = self.live_disk(target_dev)
            if disk.job is not None:
                raise exception.HypervisorError(
                    reason='disk %s has an active block job' % target_dev)
            if read_image(overlay_path)['backing'] != disk.top:
                raise exception.HypervisorError(
                    reason='%s is not backed by %s' % (overlay_path,
                                                       disk.top))
            self._move_top(target_dev, disk,
                           [(overlay_path, QCOW2)] + disk.chain)
        self._host.record('snapshot_disk', (target_dev, overlay_path),
                          snapshot)

    # Helpers of the fake.

    def live_disk(self, target_dev):
        if not self.is_active():
            raise exception.HypervisorError(
                reason='domain %s is not running' % self.name)
        return self.live[target_dev]

    def _move_top(self, target_dev, disk, chain):
        old_top = disk.top
        disk.chain = chain
        if (self.config_follows_live
                and self.persistent[target_dev][0] == old_top):
            self.persistent[target_dev] = chain[0]

    def write(self, target_dev, blocks):
        """The guest writes ``blocks``; acknowledged once this returns."""
        disk = self.live_disk(target_dev)
        write_blocks(disk.top, blocks)
        if disk.job is not None and disk.job.ready:
            write_blocks(disk.job.dest, blocks)

    def add_disk(self, target_dev, path, live):
        """Another disk on ``path``, in the live (else the persistent)
        definition only."""
        if live:
            if not self.is_active():
                raise exception.HypervisorError(reason='not running')
            self.live[target_dev] = _LiveDisk([(path, image_format(path))])
        else:
            self.persistent[target_dev] = (path, image_format(path))

    def live_chain(self, target_dev):
        return [path for path, _fmt in self.live_disk(target_dev).chain]


class FakeBlockDevice:
    """One disk of a running guest and its block job. A job is ready
    (every write mirrored) once ``wait_ready`` returned."""

    def __init__(self, guest, target):
        self._guest = guest
        self._target = target
        self._host = guest._host

    def _disk(self):
        return self._guest.live_disk(self._target)

    def job(self):
        job = self._disk().job
        return None if job is None else types.SimpleNamespace(
            type=job.kind, cur=100 if job.ready else 50, end=100)

    def mirror(self):
        return config.disk_mirror(self._guest.get_xml_desc(), self._target)

    def _start(self, job):
        disk = self._disk()
        if disk.job is not None:
            raise exception.HypervisorError(
                reason='disk %s already has a block job' % self._target)
        disk.job = job

    def copy_shallow(self, dest_path, driver_format, bandwidth_mib=0):
        def copy():
            if not os.path.exists(dest_path):
                raise exception.HypervisorError(
                    reason='Cannot access storage file %s' % dest_path)
            self._start(_Job('copy', dest_path, driver_format))
        self._host.record('copy_shallow',
                          (self._target, dest_path, bandwidth_mib), copy)

    def commit_active(self, bandwidth_mib=0):
        def commit():
            disk = self._disk()
            if len(disk.chain) < 2:
                raise exception.HypervisorError(
                    reason='disk %s has no backing file' % self._target)
            base, base_format = disk.chain[1]
            self._start(_Job('active-commit', base, base_format))
        self._host.record('commit_active', (self._target, bandwidth_mib),
                          commit)

    def wait_ready(self, timeout, progress=None):
        def ready():
            disk = self._disk()
            job = disk.job
            if job is None:
                raise exception.BlockJobFailed(disk=self._target,
                                               domain=self._guest.name)
            if progress is not None:
                progress(50, 100)
            # The top layer's data reaches the job's destination.
            write_blocks(job.dest, read_image(disk.top)['blocks'])
            job.ready = True
            if progress is not None:
                progress(100, 100)
        self._host.record('wait_ready', (self._target,), ready)

    def pivot(self, timeout):
        def pivot():
            disk = self._disk()
            job = disk.job
            if job is None or not job.ready:
                raise exception.HypervisorError(
                    reason='block job of disk %s not ready for pivot'
                           % self._target)
            if job.kind == 'copy':
                chain = _live_chain(job.dest, job.dest_format)
            else:
                chain = disk.chain[1:]
            disk.job = None
            self._guest._move_top(self._target, disk, chain)
        job = self._guest.is_active() and self._disk().job
        self._host.record('pivot', (self._target,) + (
            (job.kind, job.dest) if job else (None, None)), pivot)

    def abort(self, timeout):
        def abort():
            disk = self._disk()
            if disk.job is None:
                raise exception.HypervisorError(
                    reason='no block job on disk %s' % self._target)
            disk.job = None
        self._host.record('abort', (self._target,), abort)


# -- qemu-img and the files -----------------------------------------------

class FakeQemuImg:
    """nova_volmig.virt.libvirt.qemu_img on the fake's images, refusing,
    as QEMU's image locking does, images a running guest has open."""

    def __init__(self, host):
        self._host = host

    def _check_unlocked(self, *paths):
        for path in paths:
            if path in self._host.locked_files():
                raise processutils.ProcessExecutionError(
                    stderr='Failed to get "write" lock on %s' % path)

    def create_overlay(self, path, backing):
        def create():
            self._check_unlocked(path)
            read_image(backing)
            _write_image(path, {'format': QCOW2, 'backing': backing,
                                'blocks': {}})
        self._host.record('create_overlay', (path, backing), create)

    def backing_file(self, path):
        return self._host.record('backing_file', (path,),
                                 lambda: read_image(path)['backing'])

    def rebase_unsafe(self, path, backing):
        def rebase():
            self._check_unlocked(path)
            image = read_image(path)
            image['backing'] = backing
            _write_image(path, image)
        self._host.record('rebase_unsafe', (path, backing), rebase)

    def commit(self, path, rate_limit_mib=0):
        def commit():
            image = read_image(path)
            self._check_unlocked(path, image['backing'])
            # -d: the image keeps its data.
            write_blocks(image['backing'], image['blocks'])
        self._host.record('commit', (path,), commit)


class FakeOs:
    """The ``os`` module as the driver sees it: ``unlink`` and ``link``
    are recorded, and removing a file a definition names is a
    violation the test fails on."""

    def __init__(self, host):
        self._host = host

    def __getattr__(self, name):
        return getattr(os, name)

    def unlink(self, path):
        def unlink():
            if path in self._host.named_files():
                self._host.violations.append(path)
                raise AssertionError('removed %s, which a definition names'
                                     % path)
            os.unlink(path)
        self._host.record('unlink', (path,), unlink)

    def link(self, src, dst):
        self._host.record('link', (src, dst), lambda: os.link(src, dst))


def install(monkeypatch, driver, host):
    """Makes ``driver`` (a LibvirtDriver) use ``host``, the fake
    qemu-img and the recording ``os``."""
    from nova_volmig.virt.libvirt import driver as libvirt_driver
    from nova_volmig.virt.libvirt import qemu_img

    driver._host = host
    fake_qemu_img = FakeQemuImg(host)
    for name in ('create_overlay', 'backing_file', 'rebase_unsafe',
                 'commit'):
        monkeypatch.setattr(qemu_img, name, getattr(fake_qemu_img, name))
    monkeypatch.setattr(libvirt_driver, 'os', FakeOs(host))
