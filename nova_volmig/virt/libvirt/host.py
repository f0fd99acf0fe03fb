"""The connection to libvirtd; the one place libvirt errors are translated.

Every libvirt object handed out from here is wrapped so that a
``libvirtError`` raised by any of its methods becomes a nova_volmig
exception; callers never import libvirt to handle errors.
"""

import functools
import threading
import time

import libvirt

from nova_volmig import exception
from nova_volmig.virt.libvirt import guest as libvirt_guest


def _translate(error, name=None):
    code = error.get_error_code()
    if code == libvirt.VIR_ERR_NO_DOMAIN:
        return exception.DomainNotFound(name=name)
    return exception.HypervisorError(reason=error.get_error_message()
                                     or str(error))


class _Translating:
    """Proxies a libvirt object, translating the errors of its calls."""

    def __init__(self, wrapped, name=None):
        self._wrapped = wrapped
        self._name = name

    def __getattr__(self, attr):
        value = getattr(self._wrapped, attr)
        if not callable(value):
            return value

        @functools.wraps(value)
        def call(*args, **kwargs):
            try:
                return value(*args, **kwargs)
            except libvirt.libvirtError as e:
                raise _translate(e, self._name) from None
        return call


class BlockJobEvents:
    """The last block job event of each disk, for threads to wait on.

    libvirt delivers events on its event loop thread (started by Host);
    a waiter also re-reads the job's state now and then, so an event that
    came before it started waiting is not missed.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._last = {}

    def record(self, _conn, domain, disk, _job_type, status, _opaque):
        with self._cond:
            self._last[(domain.name(), disk)] = status
            self._cond.notify_all()

    def forget(self, domain_name, disk):
        with self._cond:
            self._last.pop((domain_name, disk), None)

    def wait(self, domain_name, disk, done, timeout, recheck_interval=1.0):
        """Waits until ``done(last_event_status)`` is true; False on timeout.

        ``done`` is called with the last event's status (None when none
        came) at each event and every ``recheck_interval`` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if done(self._last.get((domain_name, disk))):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, recheck_interval))


_event_loop_lock = threading.Lock()
_event_loop_started = []


def _start_event_loop():
    """libvirt's default event loop, once per process, on its own thread.

    It must be registered before the first connection is opened.
    """
    with _event_loop_lock:
        if _event_loop_started:
            return
        libvirt.virEventRegisterDefaultImpl()

        def run():
            while True:
                libvirt.virEventRunDefaultImpl()

        threading.Thread(target=run, name='libvirt-events',
                         daemon=True).start()
        _event_loop_started.append(True)


class Host:
    def __init__(self, uri):
        self._uri = uri
        self._connection = None
        self._lock = threading.Lock()
        self.block_job_events = BlockJobEvents()

    def _get_connection(self):
        with self._lock:
            if self._connection is None or not self._connection.isAlive():
                _start_event_loop()
                try:
                    connection = libvirt.open(self._uri)
                    connection.domainEventRegisterAny(
                        None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                        self.block_job_events.record, None)
                except libvirt.libvirtError as e:
                    raise _translate(e) from None
                self._connection = _Translating(connection)
            return self._connection

    def _guest(self, domain):
        return libvirt_guest.Guest(_Translating(domain, domain.name()),
                                   self.block_job_events)

    def get_guest(self, name):
        """The guest named ``name``; DomainNotFound if it does not exist."""
        try:
            domain = self._get_connection().lookupByName(name)
        except exception.DomainNotFound:
            raise exception.DomainNotFound(name=name) from None
        return self._guest(domain)

    def define_guest(self, xml):
        """Defines a persistent domain from ``xml`` (not started)."""
        domain = self._get_connection().defineXML(xml)
        return self._guest(domain)
