"""Plumbing shared by nova_volmig and cinder_volmig.

Both services are built the same way (pecan API behind an auth middleware,
oslo.messaging RPC on threads, oslo.db + alembic), so that machinery is
written here once.
"""

from oslo_service import backend as _service_backend

# oslo.messaging imports oslo.service, whose default backend is eventlet;
# these services run on native threads.
_service_backend.register_backend_default_hook(
    lambda: _service_backend.BackendType.THREADING)
