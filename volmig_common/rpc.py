"""oslo.messaging plumbing: one transport per configuration, threads only."""

import threading

import oslo_messaging as messaging
from oslo_messaging import transport as messaging_transport
from oslo_messaging._metrics import client as messaging_metrics
from oslo_messaging._tracing import client as messaging_tracing

from volmig_common import context
from volmig_common import exception

_transports = {}
_exception_modules = {}
_lock = threading.Lock()


def register_opts(conf, control_exchange, exception_module):
    """Registers oslo.messaging's options on a service's own ConfigOpts.

    oslo.messaging registers them on the global ``cfg.CONF`` (tracing and
    metrics) or only once a transport is built (the transport options,
    which must be these very objects or building it fails as a duplicate).
    Exceptions from ``exception_module`` raised by the service's RPC
    endpoints reach callers as themselves instead of a RemoteError.
    """
    conf.register_opts(messaging_transport._transport_opts)
    conf.register_opts(messaging_tracing.oslo_messaging_tracing,
                       group='oslo_messaging_tracing')
    conf.register_opts(messaging_metrics.oslo_messaging_metrics,
                       group='oslo_messaging_metrics')
    conf.set_default('control_exchange', control_exchange)
    _exception_modules[id(conf)] = [exception.__name__, exception_module]


def get_transport(conf):
    """The RPC transport of one service's configuration.

    Shared by every client and server built from the same configuration,
    which is what lets the in-process ``fake://`` driver deliver messages
    between the API and the worker of the embedded default.
    """
    with _lock:
        transport = _transports.get(id(conf))
        if transport is None:
            transport = messaging.get_rpc_transport(
                conf, allowed_remote_exmods=_exception_modules.get(id(conf)))
            _transports[id(conf)] = transport
        return transport


def cleanup():
    with _lock:
        for transport in _transports.values():
            transport.cleanup()
        _transports.clear()


class ContextSerializer(messaging.NoOpSerializer):
    def serialize_context(self, ctxt):
        return ctxt.to_dict()

    def deserialize_context(self, ctxt):
        return context.RequestContext.from_dict(ctxt)


def get_client(conf, topic, version, version_cap=None, server=None):
    target = messaging.Target(topic=topic, version=version, server=server)
    return messaging.get_rpc_client(
        get_transport(conf), target, version_cap=version_cap,
        serializer=ContextSerializer())


def get_server(conf, topic, server, endpoints):
    target = messaging.Target(topic=topic, server=server)
    return messaging.get_rpc_server(
        get_transport(conf), target, endpoints, executor='threading',
        serializer=ContextSerializer())
