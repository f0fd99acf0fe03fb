"""The volume copy engine against qemu-img and dd, on the same volumes.

Makes two volumes under --dir: one fully allocated, one half allocated
(random data in every other 64 MiB chunk, holes between). Times, with the
page cache dropped before every run and the runs interleaved, each tool
in turn first, so that a slow spell of the disk hits every contender
alike:

- our ``copy_volume`` within --dir (one filesystem: copy_file_range),
  ``qemu-img convert -t none -T none -m 8 -W`` and ``dd`` with direct I/O;
- the same from an XFS image (loop-mounted under --dir) to --dir: across
  filesystems, so our copy is the parallel one;
- our copy between two backend directories on that XFS image, made with
  reflink=1: a clone.

Prints medians and ratios; needs root (page cache, mounts):

    .venv/bin/python -m benchmarks.copy_engine [--dir DIR] [--size 2G]
"""

import argparse
import contextlib
import filecmp
import os
import shutil
import statistics
import subprocess
import tempfile
import time

from cinder_volmig.volume import copy

MiB = 1024 ** 2
GiB = 1024 ** 3
DATA_CHUNK = 64 * MiB
TOOLS = ('ours', 'qemu-img', 'dd')


def _size(text):
    units = {'K': 1024, 'M': MiB, 'G': GiB}
    if text[-1:].upper() in units:
        size = int(text[:-1]) * units[text[-1].upper()]
    else:
        size = int(text)
    if size <= 0 or size % MiB:
        raise argparse.ArgumentTypeError('a positive number of MiB, '
                                         'for direct I/O')
    return size


def _make_volume(path, size, allocated_every):
    """Random data in every ``allocated_every``-th chunk, holes between."""
    with open(path, 'wb') as volume:
        volume.truncate(size)
        for offset in range(0, size, DATA_CHUNK * allocated_every):
            volume.seek(offset)
            volume.write(os.urandom(min(DATA_CHUNK, size - offset)))
        os.fsync(volume.fileno())


def _new_destination(path, size):
    """As the file driver creates a volume: sparse, of the same size."""
    with open(path, 'wb') as volume:
        volume.truncate(size)


def _drop_caches():
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as drop_caches:
        drop_caches.write('3')


def _run(tool, src, dst):
    """Seconds that ``tool`` takes to copy src onto a new dst."""
    _new_destination(dst, os.stat(src).st_size)
    _drop_caches()
    started = time.monotonic()
    if tool == 'ours':
        method = copy.copy_volume(src, dst).method
    else:
        method = tool
        command = {
            'qemu-img': ['qemu-img', 'convert', '-t', 'none', '-T', 'none',
                         '-m', '8', '-W', '-O', 'raw', src, dst],
            'dd': ['dd', 'if=' + src, 'of=' + dst, 'bs=8M', 'iflag=direct',
                   'oflag=direct', 'status=none'],
        }[tool]
        subprocess.run(command, check=True)
    return time.monotonic() - started, method


def _compare_tools(volumes, dst_dir, repeat):
    """{(volume name, tool): [seconds]} and our method per volume."""
    times = {}
    methods = {}
    for repetition in range(repeat):
        for name, src in volumes.items():
            # Each tool in turn runs first, right after another volume's
            # writes that the disk may still be absorbing.
            turn = repetition % len(TOOLS)
            for tool in TOOLS[turn:] + TOOLS[:turn]:
                dst = os.path.join(dst_dir, 'copy-of-' + name)
                seconds, method = _run(tool, src, dst)
                times.setdefault((name, tool), []).append(seconds)
                if tool == 'ours':
                    methods[name] = method
                    if not repetition:
                        _check_copy(src, dst)
                os.unlink(dst)
    return times, methods


def _check_copy(src, dst):
    """Same bytes and same allocation: a benchmark of a wrong copy is void.

    Allocation may differ by the blocks that map the data: more extents
    take more of them.
    """
    if not filecmp.cmp(src, dst, shallow=False):
        raise SystemExit('%s differs from %s' % (dst, src))
    allocated = (os.stat(src).st_blocks * 512, os.stat(dst).st_blocks * 512)
    if abs(allocated[0] - allocated[1]) > MiB:
        raise SystemExit('%s has %d bytes allocated, %s %d'
                         % (src, allocated[0], dst, allocated[1]))


def _print_comparison(title, times, methods, volumes):
    print()
    print(title)
    print('%-6s %-16s %9s %9s %9s %12s %12s' % (
        'volume', 'our method', 'ours s', 'qemu-img', 'dd',
        'ours/best t', 'speed vs best'))
    median = {key: statistics.median(values)
              for key, values in times.items()}
    for name in volumes:
        ours = median[name, 'ours']
        best = min(median[name, 'qemu-img'], median[name, 'dd'])
        print('%-6s %-16s %9.2f %9.2f %9.2f %12.2f %12.2f' % (
            name, methods[name], ours, median[name, 'qemu-img'],
            median[name, 'dd'], ours / best, best / ours))
    print('%-23s %9.2f %9.2f %9.2f' % (
        'half/full time', *(median['half', tool] / median['full', tool]
                            for tool in TOOLS)))
    print('targets: speed vs best >= 0.95; ours half/full <= 0.55')


@contextlib.contextmanager
def _xfs(directory, size):
    """An XFS filesystem with reflink, in an image file, mounted."""
    image = os.path.join(directory, 'xfs.img')
    mountpoint = os.path.join(directory, 'xfs')
    with open(image, 'wb') as image_file:
        image_file.truncate(size)
    os.mkdir(mountpoint)
    try:
        subprocess.run(['mkfs.xfs', '-q', '-m', 'reflink=1', image],
                       check=True)
        subprocess.run(['mount', '-o', 'loop', image, mountpoint],
                       check=True)
        try:
            yield mountpoint
        finally:
            subprocess.run(['umount', mountpoint], check=True)
    finally:
        os.rmdir(mountpoint)
        os.unlink(image)


def _free_bytes(path):
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def _reflinks(volumes, mountpoint, repeat):
    """[(volume, median seconds, method, bytes copied, MiB used)]."""
    backend1 = os.path.join(mountpoint, 'backend1')
    backend2 = os.path.join(mountpoint, 'backend2')
    os.mkdir(backend2)
    rows = []
    for name in volumes:
        src = os.path.join(backend1, name)
        dst = os.path.join(backend2, name)
        times = []
        for repetition in range(repeat):
            _new_destination(dst, os.stat(src).st_size)
            _drop_caches()
            free = _free_bytes(mountpoint)
            started = time.monotonic()
            result = copy.copy_volume(src, dst)
            times.append(time.monotonic() - started)
            used = (free - _free_bytes(mountpoint)) / MiB
            if not repetition:
                _check_copy(src, dst)
            os.unlink(dst)
        rows.append((name, result.method, statistics.median(times),
                     result.bytes_copied, used))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--dir', help='where the volumes go (default: a '
                        'new directory in /var/tmp, on the root filesystem)')
    parser.add_argument('--size', type=_size, default=2 * GiB,
                        help='volume size, e.g. 2G (default)')
    parser.add_argument('--repeat', type=int, default=3)
    args = parser.parse_args()

    print('Load average at the start: %.1f %.1f %.1f' % os.getloadavg())
    directory = tempfile.mkdtemp(prefix='volmig-copy-bench-',
                                 dir=args.dir or '/var/tmp')
    try:
        volumes = {'full': os.path.join(directory, 'full'),
                   'half': os.path.join(directory, 'half')}
        _make_volume(volumes['full'], args.size, 1)
        _make_volume(volumes['half'], args.size, 2)
        times, methods = _compare_tools(volumes, directory, args.repeat)
        _print_comparison('Within %s (%s each, median of %d, seconds)'
                          % (directory, _human(args.size), args.repeat),
                          times, methods, volumes)

        with _xfs(directory, 3 * args.size + GiB) as mountpoint:
            backend1 = os.path.join(mountpoint, 'backend1')
            os.mkdir(backend1)
            xfs_volumes = {}
            for name, path in volumes.items():
                xfs_volumes[name] = os.path.join(backend1, name)
                _new_destination(xfs_volumes[name], args.size)
                copy.copy_volume(path, xfs_volumes[name])
            times, methods = _compare_tools(xfs_volumes, directory,
                                            args.repeat)
            _print_comparison('From the XFS image to %s' % directory,
                              times, methods, volumes)

            print()
            print('Between two backends on the XFS image (reflink=1)')
            print('%-6s %-10s %9s %14s %12s' % (
                'volume', 'method', 'seconds', 'bytes copied',
                'MiB used'))
            for row in _reflinks(xfs_volumes, mountpoint, args.repeat):
                print('%-6s %-10s %9.3f %14d %12.1f' % row)
        print()
        print('Load average at the end: %.1f %.1f %.1f' % os.getloadavg())
    finally:
        shutil.rmtree(directory)


def _human(size):
    return '%d GiB' % (size // GiB) if not size % GiB else '%d MiB' % (
        size // MiB)


if __name__ == '__main__':
    main()
