"""Pecan hooks: each attaches one thing to the request."""

import json

from pecan import hooks

from volmig_common import context
from volmig_common import exception


class ContextHook(hooks.PecanHook):
    """Builds the request context from the auth middleware's headers."""

    def before(self, state):
        state.request.context = context.RequestContext.from_environ(
            state.request.environ)


class ConfigHook(hooks.PecanHook):
    """Gives controllers their service's configuration."""

    def __init__(self, conf):
        self.conf = conf

    def before(self, state):
        state.request.conf = self.conf


class AttributeHook(hooks.PecanHook):
    """Attaches a fixed object (RPC client, service layer) to the request."""

    def __init__(self, name, value):
        self.name = name
        self.value = value

    def before(self, state):
        setattr(state.request, self.name, self.value)


class MicroversionHook(hooks.PecanHook):
    """Sets ``request.version`` and echoes it in the response headers."""

    priority = 50  # before controllers look at the version

    def __init__(self, versions):
        self.versions = versions

    def before(self, state):
        state.request.version = self.versions.negotiate(state.request.headers)

    def after(self, state):
        version = getattr(state.request, 'version', None)
        if version is None:
            return
        headers = state.response.headers
        headers['OpenStack-API-Version'] = self.versions.response_header(
            version)
        for legacy in self.versions.legacy_headers:
            headers[legacy] = str(version)
        vary = ['OpenStack-API-Version'] + self.versions.legacy_headers
        headers['Vary'] = ', '.join(vary)


class JSONObjectBodyHook(hooks.PecanHook):
    """Refuses a JSON body that is not an object before WSME parses it.

    WSME assumes an object where the signature takes a complex type and
    fails with a server error otherwise.
    """

    def before(self, state):
        request = state.request
        if not request.body or 'json' not in (request.content_type or ''):
            return
        try:
            body = json.loads(request.body)
        except ValueError:
            raise exception.Invalid(
                message='Request is not in valid JSON format.')
        if not isinstance(body, dict):
            raise exception.Invalid(
                message='The request body must be a JSON object.')
