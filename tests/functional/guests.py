"""The suite's budget of test guests, shared by every pytest-xdist worker.

A TCG guest that writes records keeps a host core busy. On a 2-core machine
more than a couple at once slow every other test down until its waits run
out, so each guest holds a slot from before it boots until its domain is
gone, and a test that would exceed the budget waits for a slot instead.
A slot is an ``flock`` on a file: it dies with the process that held it,
so a crashed worker never leaks one.
"""

import fcntl
import os
import subprocess
import time

SLOTS_DIR = '/run/volmig-test-guests'
# Measured on 2 cores (README, "Running the tests"): two writing guests at
# once keep the suite fastest; a third only lengthens every test's waits.
MAX_GUESTS = int(os.environ.get('VOLMIG_TEST_MAX_GUESTS', '2'))
QEMU_PREFIX = 'qemu-system'


class Slot:
    """One of ``MAX_GUESTS`` places for a running guest, held until
    ``release``."""

    def __init__(self):
        os.makedirs(SLOTS_DIR, exist_ok=True)
        self._fd = None
        while self._fd is None:
            for index in range(MAX_GUESTS):
                fd = os.open(os.path.join(SLOTS_DIR, 'slot-%d' % index),
                             os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                else:
                    self._fd = fd
                    break
            else:
                # Another worker's guest ends within seconds to minutes;
                # pytest-timeout bounds a wait that never ends.
                time.sleep(0.5)

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def count_running():
    """QEMU processes of volmig guests on this machine (whoever started
    them, leaked ones included)."""
    count = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                args = f.read().split(b'\0')
        except OSError:
            continue
        if (os.path.basename(args[0]).startswith(QEMU_PREFIX.encode())
                and any(b'guest=volmig-' in arg for arg in args)):
            count += 1
    return count


def domains():
    """Names of the volmig domains libvirt knows, running or not."""
    result = subprocess.run(['virsh', '-q', 'list', '--all', '--name'],
                            capture_output=True, text=True)
    return {name for name in result.stdout.split()
            if name.startswith('volmig-')}


def definition(name):
    """A domain's persistent definition ('' once it is gone)."""
    return subprocess.run(['virsh', 'dumpxml', '--inactive', name],
                          capture_output=True, text=True).stdout
