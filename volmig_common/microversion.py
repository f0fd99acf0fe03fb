"""Microversions negotiated with the ``OpenStack-API-Version`` header."""

import functools
import re

import microversion_parse

from volmig_common import exception

_VERSION_RE = re.compile(r'^([1-9]\d*)\.(0|[1-9]\d*)$')


@functools.total_ordering
class APIVersion:
    """A ``major.minor`` microversion that compares as numbers."""

    def __init__(self, text):
        match = _VERSION_RE.match(text or '')
        if not match:
            raise exception.Invalid(
                message='Invalid API version string %r: expected X.Y.' % text)
        self.major, self.minor = int(match.group(1)), int(match.group(2))

    def _key(self):
        return (self.major, self.minor)

    def __eq__(self, other):
        return self._key() == APIVersion.coerce(other)._key()

    def __lt__(self, other):
        return self._key() < APIVersion.coerce(other)._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        return '%d.%d' % self._key()

    __repr__ = __str__

    @classmethod
    def coerce(cls, value):
        return value if isinstance(value, cls) else cls(value)


class VersionRange:
    """What one API supports: its service type and min/max microversions."""

    def __init__(self, service_type, minimum, maximum, legacy_headers=()):
        self.service_type = service_type
        self.min = APIVersion(minimum)
        self.max = APIVersion(maximum)
        self.legacy_headers = list(legacy_headers)

    def negotiate(self, headers):
        """The version a request asked for; the minimum when it asked none."""
        requested = microversion_parse.get_version(
            headers, self.service_type, legacy_headers=self.legacy_headers)
        if requested is None:
            return self.min
        if requested.strip().lower() == 'latest':
            return self.max
        version = APIVersion(requested.strip())
        if not self.min <= version <= self.max:
            raise exception.VersionNotAcceptable(
                version=version, min=self.min, max=self.max)
        return version

    def response_header(self, version):
        return '%s %s' % (self.service_type, version)
