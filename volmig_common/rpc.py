"""oslo.messaging plumbing: one transport per configuration, threads only."""

import threading

from oslo_config import cfg
import oslo_messaging as messaging

from volmig_common import context

_transports = {}
_lock = threading.Lock()


def get_transport(conf):
    """The RPC transport of one service's configuration.

    Shared by every client and server built from the same configuration,
    which is what lets the in-process ``fake://`` driver deliver messages
    between the API and the worker of the embedded default.
    """
    with _lock:
        transport = _transports.get(id(conf))
        if transport is None:
            transport = messaging.get_rpc_transport(conf)
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


def set_defaults(conf, control_exchange):
    messaging.set_transport_defaults(control_exchange)
    conf.set_default('control_exchange', control_exchange)


def list_opts():
    return [(None, [cfg.StrOpt('transport_url', secret=True)])]
