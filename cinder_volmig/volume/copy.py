"""Copies a volume's data from one file to another as fast as storage allows.

In order of preference:

``reflink``
    the destination shares the source's blocks (``FICLONE``): instant,
    nothing moves. Needs both files on one filesystem that supports it
    (XFS with ``reflink=1``, btrfs).
``copy_file_range``
    the kernel copies each allocated extent without the data passing
    through this process. Used where the filesystem copies server side
    (NFS 4.2, SMB, CephFS), so that the data never crosses the network,
    and on one filesystem without direct I/O (tmpfs). Elsewhere the kernel
    copies through the page cache, which fills the host's cache with the
    whole volume and floods the disk with writeback: from a cold cache it
    was slower than the direct copy and left a guest writing on the same
    disk fewer of its writes (README.rst, "Benchmarks").
``parallel``
    a few threads each read a chunk and write it, with direct I/O where
    the filesystems allow it. Small chunks and few requests in flight
    keep the disk as busy as deeper queues do, while a guest's request
    waits behind at most a few MiB of the copy.

Only the source's allocated extents are copied, so holes stay holes. Each
chunk that goes through the page cache is handed to writeback at once and
dropped from the cache: dirty pages never pile up for a long final flush,
and copying a large volume does not evict the host's useful cache.
"""

import dataclasses
import errno
import fcntl
import mmap
import os
import threading
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

MiB = 1024 ** 2
# _IOW(0x94, 9, int) from linux/fs.h.
FICLONE = 0x40049409
# Measured on a 2-core host (benchmarks/README.rst): more kernel copies in
# flight only contend for the page cache; on a local disk two direct
# copies of 1 MiB chunks are as fast as deeper queues and delay the
# flushes of a guest on that disk the least.
WORKERS = {'copy_file_range': 4, 'parallel': 2}
CHUNK_SIZE = {'copy_file_range': 8 * MiB, 'parallel': 1 * MiB}
# Covers the logical block size of any disk.
DIRECT_ALIGNMENT = 4096
PROGRESS_INTERVAL = 0.1
# The errors with which the kernel says "not here", as opposed to a failure
# of the storage: the copy goes on with the next method.
UNSUPPORTED = frozenset((errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL,
                         errno.ENOTTY, errno.ENOSYS))
# Filesystems (as /proc/self/mountinfo names them) on which the kernel
# hands copy_file_range to the server.
SERVER_SIDE_COPY = frozenset(('nfs', 'nfs4', 'cifs', 'smb3', 'ceph'))


@dataclasses.dataclass(frozen=True)
class CopyResult:
    method: str
    bytes_copied: int
    seconds: float


def copy_volume(src_path, dst_path, *, progress=None, bandwidth_limit=None):
    """Makes the existing file ``dst_path`` an exact copy of ``src_path``.

    The destination keeps its size if it is larger than the source. Its
    previous content is discarded, so that a retried copy leaves no stale
    data where the source has holes. It is flushed to stable storage
    before this returns.

    :param progress: called as ``progress(done_bytes, total_bytes)`` from
        the calling thread, at most every ``PROGRESS_INTERVAL`` seconds and
        once at the end with ``done_bytes == total_bytes``. ``total_bytes``
        counts the data to move, so it is 0 for a reflink or a file without
        data.
    :param bandwidth_limit: at most this many bytes per second, or None.
    :raises OSError: with the errno of the failure; no thread of the copy
        is left running.
    """
    if bandwidth_limit is not None and bandwidth_limit <= 0:
        raise ValueError('bandwidth_limit must be positive, not %r'
                         % (bandwidth_limit,))
    report = _Reporter(progress)
    started = time.monotonic()
    src = os.open(src_path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        dst = os.open(dst_path, os.O_WRONLY | os.O_CLOEXEC)
        try:
            method, copied = _copy(src, dst, report, bandwidth_limit)
            os.fsync(dst)
        except OSError as exc:
            raise OSError(exc.errno, '%s while copying %s to %s'
                          % (exc.strerror, src_path, dst_path)) from exc
        finally:
            os.close(dst)
    finally:
        os.close(src)
    result = CopyResult(method, copied, time.monotonic() - started)
    LOG.info('Copied %(src)s to %(dst)s by %(method)s: %(bytes)d bytes '
             'moved in %(seconds).2fs',
             {'src': src_path, 'dst': dst_path, 'method': method,
              'bytes': copied, 'seconds': result.seconds})
    return result


def _copy(src, dst, report, bandwidth_limit):
    src_stat = os.fstat(src)
    dst_stat = os.fstat(dst)
    if (src_stat.st_dev, src_stat.st_ino) == (dst_stat.st_dev,
                                              dst_stat.st_ino):
        # Truncating the destination would destroy the source.
        raise OSError(errno.EINVAL, 'Source and destination are one file')
    size = src_stat.st_size
    final_size = max(size, dst_stat.st_size)
    # Truncating also lets a clone of an odd-sized file end at EOF, the
    # only place where the kernel accepts an unaligned clone.
    os.ftruncate(dst, 0)
    try:
        fcntl.ioctl(dst, FICLONE, src)
    except OSError as exc:
        if exc.errno not in UNSUPPORTED:
            raise
        LOG.debug('No reflink (%s), copying the data',
                  errno.errorcode.get(exc.errno, exc.errno))
    else:
        os.ftruncate(dst, final_size)
        report(0, 0, final=True)
        return 'reflink', 0
    os.ftruncate(dst, final_size)
    ranges = list(_data_ranges(src, size))
    total = sum(end - start for start, end in ranges)
    copier = _ChunkCopier(src, dst)
    chunk_size = copier.chunk_size
    if bandwidth_limit:
        # A quarter of a second's worth keeps a low limit's pace and the
        # progress steady; whole MiB keep chunks fit for direct I/O.
        quarter = bandwidth_limit // 4 // MiB * MiB
        chunk_size = max(MiB, min(chunk_size, quarter))
    limiter = _RateLimiter(bandwidth_limit) if bandwidth_limit else None
    run = _Run(copier, _chunks(ranges, chunk_size), limiter,
               WORKERS[copier.method])
    try:
        run.wait(lambda: report(run.done, total))
    finally:
        copier.close()
    report(total, total, final=True)
    return copier.method, total


def _data_ranges(fd, size):
    """(start, end) of each allocated extent, found with SEEK_DATA."""
    offset = 0
    while offset < size:
        try:
            start = os.lseek(fd, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return
            raise
        offset = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        if start < offset:
            yield start, offset


def _chunks(ranges, chunk_size):
    for start, end in ranges:
        for offset in range(start, end, chunk_size):
            yield offset, min(chunk_size, end - offset)


class _ChunkCopier:
    """Copies one chunk at a time, by the best method that works here."""

    def __init__(self, src, dst):
        self.src = src
        self.dst = dst
        self._direct = ()
        if _filesystem_type(dst) not in SERVER_SIDE_COPY:
            self._direct = _open_direct(src, dst)
        self.method = ('copy_file_range'
                       if not self._direct and _kernel_copy_works(src, dst)
                       else 'parallel')
        self.chunk_size = CHUNK_SIZE[self.method]
        self._buffers = threading.local()

    def close(self):
        for fd in self._direct:
            os.close(fd)

    def copy(self, offset, length):
        if self.method == 'copy_file_range':
            try:
                self._copy_in_kernel(offset, length)
            except OSError as exc:
                # Some filesystems refuse only real copies (NFS without
                # server-side copy); only the first chunks can fail so.
                if exc.errno not in UNSUPPORTED:
                    raise
                LOG.debug('No copy_file_range (%s), copying in parallel',
                          errno.errorcode.get(exc.errno, exc.errno))
                self.method = 'parallel'
            else:
                self._drop_cache(offset, length)
                return
        if self._direct and not (offset | length) % DIRECT_ALIGNMENT:
            self._copy_through_buffer(*self._direct, offset, length)
        else:
            self._copy_through_buffer(self.src, self.dst, offset, length)
            self._drop_cache(offset, length)

    def _drop_cache(self, offset, length):
        # Starts writeback of the chunk now rather than at the final fsync,
        # and drops the source pages that nobody will read again.
        os.posix_fadvise(self.dst, offset, length, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(self.src, offset, length, os.POSIX_FADV_DONTNEED)

    def _copy_in_kernel(self, offset, length):
        end = offset + length
        while offset < end:
            copied = os.copy_file_range(self.src, self.dst, end - offset,
                                        offset, offset)
            if not copied:
                _raise_truncated(offset)
            offset += copied

    def _copy_through_buffer(self, src, dst, offset, length):
        buffer = getattr(self._buffers, 'buffer', None)
        if buffer is None:
            # Page-aligned, as direct I/O wants.
            buffer = self._buffers.buffer = memoryview(
                mmap.mmap(-1, self.chunk_size))
        data = buffer[:length]
        done = 0
        while done < length:
            read = os.preadv(src, [data[done:]], offset + done)
            if not read:
                _raise_truncated(offset + done)
            done += read
        done = 0
        while done < length:
            done += os.pwritev(dst, [data[done:]], offset + done)


def _kernel_copy_works(src, dst):
    """Whether copy_file_range works between these files at all."""
    try:
        os.copy_file_range(src, dst, 0, 0, 0)
    except OSError as exc:
        if exc.errno not in UNSUPPORTED:
            raise
        return False
    return True


def _open_direct(src, dst):
    """Both files opened again for direct I/O, or () if impossible."""
    try:
        direct_src = _reopen(src, os.O_RDONLY | os.O_DIRECT)
        try:
            return direct_src, _reopen(dst, os.O_WRONLY | os.O_DIRECT)
        except OSError:
            os.close(direct_src)
            raise
    except OSError as exc:
        # tmpfs, for one: the copy goes through the page cache instead.
        LOG.debug('No direct I/O (%s)', exc)
        return ()


def _reopen(fd, flags):
    return os.open('/proc/self/fd/%d' % fd, flags | os.O_CLOEXEC)


def _filesystem_type(fd):
    """The type of the filesystem holding ``fd``, as mount(8) names it."""
    device = os.fstat(fd).st_dev
    wanted = '%d:%d' % (os.major(device), os.minor(device))
    with open('/proc/self/mountinfo') as mountinfo:
        for line in mountinfo:
            # ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [TAGS...] - TYPE ...
            fields, _, described = line.partition(' - ')
            if fields.split()[2] == wanted:
                return described.split()[0]
    return None


def _raise_truncated(offset):
    raise OSError(errno.EIO, 'Source ended early, at offset %d' % offset)


class _RateLimiter:
    """A token bucket shared by the workers, holding one chunk at most.

    Kept as the time at which the bucket holds enough tokens for the next
    chunk: each chunk pushes that time by its length divided by the rate.
    """

    def __init__(self, rate):
        self._rate = rate
        self._lock = threading.Lock()
        self._next = time.monotonic()

    def wait(self, length, stop):
        """Waits for ``length`` bytes worth of tokens; False if stopped."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + length / self._rate
        return not stop.wait(start - now)


class _Run:
    """Worker threads copying chunks until all are done or one fails."""

    def __init__(self, copier, chunks, limiter, workers):
        self._copier = copier
        self._chunks = chunks
        self._limiter = limiter
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._error = None
        self.done = 0
        self._threads = [
            threading.Thread(target=self._work,
                             name='volume-copy-%d' % number)
            for number in range(workers)]

    def wait(self, on_progress):
        """Runs the copy to its end, calling ``on_progress`` meanwhile."""
        try:
            for thread in self._threads:
                thread.start()
            for thread in self._threads:
                while thread.is_alive():
                    thread.join(PROGRESS_INTERVAL)
                    on_progress()
        finally:
            # Also reached when on_progress raises or on KeyboardInterrupt:
            # workers finish their chunk and exit before this returns.
            self._stop.set()
            for thread in self._threads:
                if thread.ident is not None:
                    thread.join()
        if self._error is not None:
            raise self._error

    def _next_chunk(self):
        with self._lock:
            if self._stop.is_set():
                return None
            return next(self._chunks, None)

    def _work(self):
        try:
            while (chunk := self._next_chunk()) is not None:
                offset, length = chunk
                if self._limiter and not self._limiter.wait(length,
                                                            self._stop):
                    return
                self._copier.copy(offset, length)
                with self._lock:
                    self.done += length
        except BaseException as exc:
            with self._lock:
                if self._error is None:
                    self._error = exc
            self._stop.set()


class _Reporter:
    """Calls the progress callback at most every PROGRESS_INTERVAL."""

    def __init__(self, callback):
        self._callback = callback
        self._last = None

    def __call__(self, done, total, final=False):
        if self._callback is None:
            return
        now = time.monotonic()
        if (final or self._last is None
                or now - self._last >= PROGRESS_INTERVAL):
            self._last = now
            self._callback(done, total)
