"""The volume copy engine on real files, filesystems and mounts."""

import contextlib
import errno
import itertools
import os
import subprocess
import threading
import time

import pytest

from cinder_volmig.volume import copy

MiB = 1024 ** 2


def _write(path, size, data_at=((0, None),)):
    """A file of ``size`` bytes: random data at each (offset, length),
    holes elsewhere. A None length runs to the end."""
    with open(path, 'wb') as f:
        f.truncate(size)
        for offset, length in data_at:
            f.seek(offset)
            f.write(os.urandom(size - offset if length is None else length))
    return str(path)


def _destination(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)
    return str(path)


def _read(path):
    with open(path, 'rb') as f:
        return f.read()


def _data_map(path):
    """The data ranges of a file, as the kernel reports them."""
    ranges = []
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        offset = 0
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError as exc:
                assert exc.errno == errno.ENXIO
                break
            offset = os.lseek(fd, start, os.SEEK_HOLE)
            ranges.append((start, offset))
    finally:
        os.close(fd)
    return ranges


def _copy_threads():
    return [thread for thread in threading.enumerate()
            if thread.name.startswith('volume-copy')]


def _assert_same(src, dst):
    assert _read(src) == _read(dst)
    assert _data_map(src) == _data_map(dst)


@contextlib.contextmanager
def _mounted(mountpoint, *mount_args):
    os.makedirs(mountpoint, exist_ok=True)
    result = subprocess.run(['mount', *mount_args, str(mountpoint)],
                            capture_output=True, text=True)
    if result.returncode:
        pytest.skip('cannot mount %s: %s'
                    % (' '.join(mount_args), result.stderr.strip()))
    try:
        yield str(mountpoint)
    finally:
        subprocess.run(['umount', str(mountpoint)], check=True)


@pytest.fixture(scope='module')
def xfs(tmp_path_factory):
    """A mounted XFS with reflink, 512 MiB, in an image file."""
    directory = tmp_path_factory.mktemp('xfs')
    image = directory / 'image'
    _destination(image, 512 * MiB)
    subprocess.run(['mkfs.xfs', '-q', '-m', 'reflink=1', str(image)],
                   check=True)
    with _mounted(directory / 'mnt', '-o', 'loop', str(image)) as mnt:
        yield mnt


@pytest.fixture
def tmpfs(tmp_path):
    """Mounts a tmpfs of the given size and returns its path."""
    numbers = itertools.count()
    with contextlib.ExitStack() as mounts:
        def mount(size):
            mountpoint = tmp_path / ('tmpfs%d' % next(numbers))
            return mounts.enter_context(
                _mounted(mountpoint, '-t', 'tmpfs', '-o', 'size=%d' % size,
                         'tmpfs'))
        yield mount


@pytest.fixture
def server_side_copy(monkeypatch):
    """Makes every filesystem look like one that copies server side."""
    monkeypatch.setattr(copy, '_filesystem_type', lambda fd: 'nfs4')


@pytest.fixture
def recorded_reopens(monkeypatch):
    reopened = []
    real_reopen = copy._reopen

    def recording_reopen(fd, flags):
        reopened.append(flags)
        return real_reopen(fd, flags)

    monkeypatch.setattr(copy, '_reopen', recording_reopen)
    return reopened


DIRECT_REOPENS = [os.O_RDONLY | os.O_DIRECT, os.O_WRONLY | os.O_DIRECT]


def _no_direct_io(fd, flags):
    raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))


def test_full_file_in_one_local_filesystem_is_copied_directly(
        tmp_path, recorded_reopens):
    src = _write(tmp_path / 'src', 20 * MiB)
    dst = _destination(tmp_path / 'dst', 20 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'parallel'
    assert recorded_reopens == DIRECT_REOPENS
    assert result.bytes_copied == 20 * MiB
    assert result.seconds > 0
    _assert_same(src, dst)


def test_server_side_copy_moves_in_kernel(tmp_path, server_side_copy,
                                          recorded_reopens):
    src = _write(tmp_path / 'src', 20 * MiB, ((3 * MiB, 9 * MiB + 1),))
    dst = _destination(tmp_path / 'dst', 20 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'copy_file_range'
    assert recorded_reopens == []
    assert result.bytes_copied == 9 * MiB + 4096
    _assert_same(src, dst)


def test_one_filesystem_without_direct_io_moves_in_kernel(tmp_path,
                                                          monkeypatch):
    monkeypatch.setattr(copy, '_reopen', _no_direct_io)
    src = _write(tmp_path / 'src', 20 * MiB)
    dst = _destination(tmp_path / 'dst', 20 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'copy_file_range'
    _assert_same(src, dst)


def test_filesystem_type_is_the_one_mount_reports(tmp_path, tmpfs):
    for directory in (str(tmp_path), tmpfs(MiB)):
        expected = subprocess.run(
            ['findmnt', '--noheadings', '--output', 'FSTYPE', '--target',
             directory], check=True, capture_output=True,
            text=True).stdout.strip()
        fd = os.open(directory, os.O_RDONLY)
        try:
            assert copy._filesystem_type(fd) == expected
        finally:
            os.close(fd)


def test_holes_stay_holes(tmp_path):
    data_at = ((0, MiB), (9 * MiB, 3 * MiB + 4096), (30 * MiB, 4096))
    src = _write(tmp_path / 'src', 32 * MiB, data_at)
    dst = _destination(tmp_path / 'dst', 32 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.bytes_copied == 4 * MiB + 8192
    _assert_same(src, dst)
    assert os.stat(dst).st_blocks == os.stat(src).st_blocks


def test_empty_file(tmp_path):
    src = _write(tmp_path / 'src', 0)
    dst = _destination(tmp_path / 'dst', 0)

    result = copy.copy_volume(src, dst)

    assert result.bytes_copied == 0
    assert os.stat(dst).st_size == 0


def test_file_without_data_stays_unallocated(tmp_path):
    src = _destination(tmp_path / 'src', 64 * MiB)
    dst = _destination(tmp_path / 'dst', 64 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.bytes_copied == 0
    assert os.stat(dst).st_size == 64 * MiB
    assert os.stat(dst).st_blocks == 0


def test_odd_sized_file_extends_a_shorter_destination(tmp_path):
    src = _write(tmp_path / 'src', 17 * MiB + 12345)
    dst = _destination(tmp_path / 'dst', MiB)

    result = copy.copy_volume(src, dst)

    assert result.bytes_copied == 17 * MiB + 12345
    _assert_same(src, dst)


def test_longer_destination_keeps_its_size_with_zeros_after(tmp_path):
    src = _write(tmp_path / 'src', 3 * MiB)
    dst = _write(tmp_path / 'dst', 5 * MiB)

    copy.copy_volume(src, dst)

    assert _read(dst) == _read(src) + bytes(2 * MiB)


def test_stale_destination_data_becomes_holes(tmp_path):
    src = _write(tmp_path / 'src', 16 * MiB, ((4 * MiB, MiB),))
    dst = _write(tmp_path / 'dst', 16 * MiB)

    copy.copy_volume(src, dst)

    _assert_same(src, dst)
    assert os.stat(dst).st_blocks == os.stat(src).st_blocks


def test_same_file_is_refused_untouched(tmp_path):
    src = _write(tmp_path / 'src', MiB)
    os.link(src, tmp_path / 'link')
    before = _read(src)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(src, str(tmp_path / 'link'))

    assert raised.value.errno == errno.EINVAL
    assert _read(src) == before


def test_reflink_clones_on_xfs(xfs):
    os.makedirs(os.path.join(xfs, 'backend1'), exist_ok=True)
    os.makedirs(os.path.join(xfs, 'backend2'), exist_ok=True)
    data_at = ((0, 16 * MiB), (40 * MiB, 16 * MiB))
    src = _write(os.path.join(xfs, 'backend1', 'vol'), 64 * MiB, data_at)
    dst = _destination(os.path.join(xfs, 'backend2', 'vol'), 64 * MiB)
    os.sync()
    free = os.statvfs(xfs).f_bavail * os.statvfs(xfs).f_frsize

    result = copy.copy_volume(src, dst)

    used = free - os.statvfs(xfs).f_bavail * os.statvfs(xfs).f_frsize
    assert result.method == 'reflink'
    assert result.bytes_copied == 0
    assert used < MiB
    assert 'shared' in subprocess.run(['filefrag', '-v', dst],
                                      capture_output=True, text=True,
                                      check=True).stdout
    _assert_same(src, dst)


def test_reflink_of_an_odd_sized_file(xfs):
    src = _write(os.path.join(xfs, 'odd'), 5 * MiB + 7)
    dst = _destination(os.path.join(xfs, 'odd-copy'), 0)

    result = copy.copy_volume(src, dst)

    assert result.method == 'reflink'
    _assert_same(src, dst)


def test_across_filesystems_copies_in_parallel_with_direct_io(
        xfs, tmp_path, recorded_reopens):
    data_at = ((0, 20 * MiB), (30 * MiB, 9 * MiB + 5))
    src = _write(os.path.join(xfs, 'cross'), 48 * MiB, data_at)
    dst = _destination(tmp_path / 'dst', 48 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'parallel'
    assert recorded_reopens == DIRECT_REOPENS
    assert result.bytes_copied == 29 * MiB + 4096
    _assert_same(src, dst)


def test_from_tmpfs_to_disk_copies_in_parallel(tmpfs, tmp_path):
    src = _write(os.path.join(tmpfs(32 * MiB), 'src'), 24 * MiB + 1)
    dst = _destination(tmp_path / 'dst', 24 * MiB + 1)

    result = copy.copy_volume(src, dst)

    assert result.method == 'parallel'
    _assert_same(src, dst)


def test_falls_back_when_the_kernel_refuses_real_copies(
        tmp_path, monkeypatch, server_side_copy):
    real_copy_file_range = os.copy_file_range

    def refusing_copy_file_range(src, dst, count, *offsets):
        if count:
            raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))
        return real_copy_file_range(src, dst, count, *offsets)

    monkeypatch.setattr(os, 'copy_file_range', refusing_copy_file_range)
    src = _write(tmp_path / 'src', 40 * MiB, ((0, 17 * MiB),))
    dst = _destination(tmp_path / 'dst', 40 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'parallel'
    _assert_same(src, dst)


def test_parallel_copy_without_direct_io(xfs, tmp_path, monkeypatch):
    monkeypatch.setattr(copy, '_reopen', _no_direct_io)
    src = _write(os.path.join(xfs, 'buffered'), 40 * MiB,
                 ((MiB, 20 * MiB + 3),))
    dst = _destination(tmp_path / 'dst', 40 * MiB)

    result = copy.copy_volume(src, dst)

    assert result.method == 'parallel'
    _assert_same(src, dst)


def test_bandwidth_limit_is_honoured(tmp_path):
    src = _write(tmp_path / 'src', 64 * MiB)
    dst = _destination(tmp_path / 'dst', 64 * MiB)

    started = time.monotonic()
    result = copy.copy_volume(src, dst, bandwidth_limit=32 * MiB)

    assert time.monotonic() - started >= 1.5
    assert result.seconds >= 1.5
    _assert_same(src, dst)


def test_progress_rises_to_the_data_size_at_most_ten_times_a_second(
        tmp_path):
    src = _write(tmp_path / 'src', 32 * MiB, ((0, 8 * MiB),
                                              (16 * MiB, 8 * MiB)))
    dst = _destination(tmp_path / 'dst', 32 * MiB)
    calls = []

    started = time.monotonic()
    copy.copy_volume(src, dst, bandwidth_limit=16 * MiB,
                     progress=lambda done, total: calls.append((done, total)))
    elapsed = time.monotonic() - started

    assert calls[-1] == (16 * MiB, 16 * MiB)
    assert {total for _, total in calls} == {16 * MiB}
    done = [done for done, _ in calls]
    assert done == sorted(done)
    assert 0 < done[0] < 16 * MiB
    assert 3 <= len(calls) <= elapsed * 10 + 2


def test_progress_of_a_clone_is_complete_at_once(xfs):
    src = _write(os.path.join(xfs, 'progress'), MiB)
    dst = _destination(os.path.join(xfs, 'progress-copy'), MiB)
    calls = []

    copy.copy_volume(src, dst, progress=lambda *args: calls.append(args))

    assert calls == [(0, 0)]


def test_no_space_across_filesystems(tmpfs, tmp_path):
    src = _write(tmp_path / 'src', 32 * MiB)
    dst = _destination(os.path.join(tmpfs(4 * MiB), 'dst'), 32 * MiB)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(src, dst)

    assert raised.value.errno == errno.ENOSPC
    assert src in str(raised.value) and dst in str(raised.value)
    assert not _copy_threads()


def test_no_space_in_one_filesystem(tmpfs):
    mountpoint = tmpfs(24 * MiB)
    src = _write(os.path.join(mountpoint, 'src'), 16 * MiB)
    dst = _destination(os.path.join(mountpoint, 'dst'), 16 * MiB)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(src, dst)

    assert raised.value.errno == errno.ENOSPC
    assert not _copy_threads()


def test_missing_source(tmp_path):
    dst = _destination(tmp_path / 'dst', MiB)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(str(tmp_path / 'gone'), dst)

    assert raised.value.errno == errno.ENOENT
    assert 'gone' in str(raised.value)


def test_missing_destination_is_not_created(tmp_path):
    src = _write(tmp_path / 'src', MiB)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(src, str(tmp_path / 'gone'))

    assert raised.value.errno == errno.ENOENT
    assert not os.path.exists(tmp_path / 'gone')


def test_io_error_stops_every_worker(tmp_path, monkeypatch,
                                    server_side_copy):
    src = _write(tmp_path / 'src', 64 * MiB)
    dst = _destination(tmp_path / 'dst', 64 * MiB)
    real_copy_file_range = os.copy_file_range
    calls = []

    def failing_copy_file_range(*args):
        calls.append(args)
        if len(calls) == 3:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_copy_file_range(*args)

    monkeypatch.setattr(os, 'copy_file_range', failing_copy_file_range)

    with pytest.raises(OSError) as raised:
        copy.copy_volume(src, dst)

    assert raised.value.errno == errno.EIO
    assert 'Input/output error while copying %s to %s' % (src, dst) in str(
        raised.value)
    assert not _copy_threads()
    assert len(calls) < 8


def test_failing_progress_callback_stops_the_copy(tmp_path):
    src = _write(tmp_path / 'src', 32 * MiB)
    dst = _destination(tmp_path / 'dst', 32 * MiB)

    def progress(done, total):
        raise RuntimeError('database gone')

    with pytest.raises(RuntimeError, match='database gone'):
        copy.copy_volume(src, dst, progress=progress,
                         bandwidth_limit=16 * MiB)

    assert not _copy_threads()


@pytest.mark.parametrize('limit', [0, -1])
def test_bandwidth_limit_must_be_positive(tmp_path, limit):
    src = _write(tmp_path / 'src', MiB)
    dst = _destination(tmp_path / 'dst', MiB)

    with pytest.raises(ValueError):
        copy.copy_volume(src, dst, bandwidth_limit=limit)
