"""Checks the migration tests share: volumes seen by the volume API and
their files."""

import hashlib
import os

from tests.functional import deployment as deployment_mod


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.file_digest(f, 'sha256').hexdigest()


def volume_at(d, volume_id):
    response = d.volume.get('/volumes/%s' % volume_id, version='3.72')
    assert response.status_code == 200, response.text
    return response.json()['volume']


def wait_migrated(d, volume_id, timeout=180):
    def done():
        volume = volume_at(d, volume_id)
        if volume['migration_status'] in ('success', 'error'):
            return volume
        return None
    return deployment_mod.wait_for(done, timeout, 'the migration to end')


def assert_moved(d, g, backend):
    volume = volume_at(d, g.volume['id'])
    assert volume['migration_status'] == 'success', volume
    assert volume['id'] == g.volume['id']
    assert volume['status'] == 'in-use'
    assert volume['os-vol-host-attr:host'].startswith(
        d.volume_host(backend))
    new_path = d.volume_path(volume)
    assert new_path != g.path
    assert not os.path.exists(g.path)
    d.wait_disk_source(g.server, new_path)
    return new_path


def fill(path, chunks, start=0):
    """Writes random data into every other 1 MiB of ``path`` from
    ``start`` MiB on: half of it allocated, the rest holes."""
    with open(path, 'r+b') as f:
        for i in range(chunks):
            f.seek((start + 2 * i) << 20)
            f.write(os.urandom(1 << 20))


def copy_data(source, destination):
    """Cinder's copy as plainly as possible, for tests that play Cinder:
    the data of ``source`` into the same places of ``destination``, a
    fresh (all holes) volume of the same size. Holes are not written:
    they read as zeros on both sides already."""
    with open(source, 'rb') as src, open(destination, 'r+b') as dst:
        for start, end in data_ranges(source):
            src.seek(start)
            dst.seek(start)
            dst.write(src.read(end - start))


def data_ranges(path):
    """Where ``path`` has data, as (start, end) ranges; the rest is holes."""
    ranges = []
    with open(path, 'rb') as f:
        fd, end, offset = f.fileno(), os.fstat(f.fileno()).st_size, 0
        while offset < end:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:  # ENXIO: only a hole is left
                break
            offset = os.lseek(fd, start, os.SEEK_HOLE)
            ranges.append((start, offset))
    return ranges
