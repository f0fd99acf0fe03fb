"""qemu-img on files no running QEMU has open: the overlays of volume
migrations, while their guest is shut off.

QEMU's image locking makes each of these fail, rather than corrupt the
image, if a QEMU process does have it open after all.
"""

import json

from oslo_concurrency import processutils


def _qemu_img(*args):
    out, _err = processutils.execute('qemu-img', *args)
    return out


def create_overlay(path, backing):
    """A new, empty qcow2 ``path`` on top of the raw file ``backing``."""
    _qemu_img('create', '-q', '-f', 'qcow2', '-b', backing, '-F', 'raw',
              path)


def backing_file(path):
    """The file a qcow2 image's header names as its backing file."""
    info = json.loads(_qemu_img('info', '--output=json', '-f', 'qcow2',
                                path))
    return info.get('full-backing-filename') or info.get('backing-filename')


def rebase_unsafe(path, backing):
    """Makes a qcow2 image name ``backing`` (raw) as its backing file,
    without reading either: only right when the new backing file holds the
    same data as the old one (Cinder's copy of the source)."""
    _qemu_img('rebase', '-q', '-u', '-f', 'qcow2', '-b', backing, '-F',
              'raw', path)


def commit(path, rate_limit_mib=0):
    """Writes a qcow2 image's data into its backing file. The image keeps
    its data (``-d``), so running it again writes the same data again."""
    args = ['commit', '-q', '-d', '-f', 'qcow2', '-t', 'none']
    if rate_limit_mib:
        args += ['-r', '%dM' % rate_limit_mib]
    _qemu_img(*args, path)
