"""The connection to libvirtd; the one place libvirt errors are translated.

Every libvirt object handed out from here is wrapped so that a
``libvirtError`` raised by any of its methods becomes a nova_volmig
exception; callers never import libvirt to handle errors.
"""

import functools
import threading

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


class Host:
    def __init__(self, uri):
        self._uri = uri
        self._connection = None
        self._lock = threading.Lock()

    def _get_connection(self):
        with self._lock:
            if self._connection is None or not self._connection.isAlive():
                try:
                    self._connection = _Translating(libvirt.open(self._uri))
                except libvirt.libvirtError as e:
                    raise _translate(e) from None
            return self._connection

    def _guest(self, domain):
        return libvirt_guest.Guest(_Translating(domain, domain.name()))

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
