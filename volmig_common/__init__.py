"""Plumbing shared by nova_volmig and cinder_volmig.

Both services are built the same way (pecan API behind an auth middleware,
oslo.messaging RPC on threads, oslo.db + alembic), so that machinery is
written here once.
"""
