"""``/v3/{project_id}/volumes``."""

import pecan
from pecan import rest

from cinder_volmig.api import types
from cinder_volmig.api import views
from cinder_volmig.api.controllers import base
from volmig_common import exception

CLUSTER_VERSION = '3.16'

# Ways to create a volume from something else, which this service lacks.
_UNSUPPORTED_SOURCES = ('snapshot_id', 'source_volid', 'imageRef',
                        'backup_id', 'consistencygroup_id', 'group_id')


def _value(value, default=None):
    return value if types.is_set(value) else default


def _list_volumes(all_tenants, project_id, name, status, migration_status,
                  limit, marker):
    request = pecan.request
    filters = {}
    for key, value in (('name', name), ('status', status),
                       ('migration_status', migration_status)):
        if value is not None:
            filters[key] = value
    all_tenants = (all_tenants is not None
                   and base.as_bool('all_tenants', all_tenants))
    if project_id is not None:
        # Honoured for admins only, as Cinder does.
        filters['project_id'] = project_id
    return request.volume_api.get_all(
        request.context, filters=filters, all_tenants=all_tenants,
        limit=base.as_limit(limit), marker=marker)


class VolumesController(rest.RestController):
    _custom_actions = {'detail': ['GET'], 'action': ['POST']}

    @types.expose(types.VolumeList, types.text, types.text, types.text,
                  types.text, types.text, types.text, types.text)
    def get_all(self, all_tenants=None, project_id=None, name=None,
                status=None, migration_status=None, limit=None,
                marker=None):
        base.authorize('volume:get_all')
        volumes = _list_volumes(all_tenants, project_id, name, status,
                                migration_status, limit, marker)
        return types.VolumeList(
            volumes=[views.volume_summary(pecan.request, v)
                     for v in volumes])

    @types.expose(types.VolumeDetailList, types.text, types.text,
                  types.text, types.text, types.text, types.text,
                  types.text)
    def detail(self, all_tenants=None, project_id=None, name=None,
               status=None, migration_status=None, limit=None,
               marker=None):
        base.authorize('volume:get_all')
        volumes = _list_volumes(all_tenants, project_id, name, status,
                                migration_status, limit, marker)
        return types.VolumeDetailList(
            volumes=[views.volume(pecan.request, v) for v in volumes])

    @types.expose(types.VolumeBody, types.text)
    def get_one(self, volume_id):
        base.authorize('volume:get')
        request = pecan.request
        volume = request.volume_api.get(request.context, volume_id)
        return types.VolumeBody(volume=views.volume(request, volume))

    @types.expose(types.VolumeBody, body=types.VolumeCreateBody,
                  status_code=202)
    def post(self, body):
        base.authorize('volume:create')
        request = pecan.request
        spec = body.volume
        for source in _UNSUPPORTED_SOURCES:
            if _value(getattr(spec, source)) is not None:
                raise exception.Invalid(
                    message='Creating a volume with %s is not supported.'
                            % source)
        volume = request.volume_api.create(
            request.context, spec.size,
            name=_value(spec.name),
            description=_value(spec.description),
            volume_type=_value(spec.volume_type),
            availability_zone=_value(spec.availability_zone),
            metadata=_value(spec.metadata),
            multiattach=_value(spec.multiattach, False))
        return types.VolumeBody(volume=views.volume(request, volume))

    @types.expose(None, types.text, types.text, types.text,
                  status_code=202)
    def delete(self, volume_id, cascade=None, force=None):
        base.authorize('volume:delete')
        request = pecan.request
        # cascade deletes snapshots, and this service has none.
        if cascade is not None:
            base.as_bool('cascade', cascade)
        force = force is not None and base.as_bool('force', force)
        if force:
            base.authorize('volume:force_delete')
        request.volume_api.delete(request.context, volume_id, force=force)

    @types.expose(None, types.text, body=types.VolumeActionBody,
                  status_code=202)
    def action(self, volume_id, body):
        """os-migrate_volume, the only volume action (admins only)."""
        base.authorize('volume_extension:volume_admin_actions:migrate_volume')
        if not types.is_set(body.migrate_volume):
            raise exception.Invalid(
                message='The only volume action is os-migrate_volume.')
        request = pecan.request
        spec = _migrate_spec(body.migrate_volume)
        host = spec.get('host')
        cluster = spec.get('cluster')
        if cluster is not None and request.version < CLUSTER_VERSION:
            raise exception.Invalid(
                message='cluster needs volume API version %s or later.'
                        % CLUSTER_VERSION)
        if (host is None) == (cluster is None):
            raise exception.Invalid(
                message='Exactly one of host and cluster must name the '
                        'destination.')
        flags = {name: spec.get(name) is not None
                 and base.as_bool(name, spec[name])
                 for name in ('force_host_copy', 'lock_volume')}
        # Each backend's service is its own cluster.
        request.volume_api.migrate_volume(
            request.context, volume_id,
            host if host is not None else cluster, **flags)


# What `cinder migrate` and `openstack volume migrate` send; the booleans
# may come as strings ("True").
_MIGRATE_KEYS = ('host', 'cluster', 'force_host_copy', 'lock_volume')


def _migrate_spec(spec):
    if spec is None:
        raise exception.Invalid(
            message='os-migrate_volume needs an object with a host.')
    unknown = sorted(set(spec) - set(_MIGRATE_KEYS))
    if unknown:
        raise exception.Invalid(
            message='Unknown keys in os-migrate_volume: %s.'
                    % ', '.join(unknown))
    for key in ('host', 'cluster'):
        if not isinstance(spec.get(key), (str, type(None))):
            raise exception.Invalid(
                message='%s must be a string, got %r.' % (key, spec[key]))
    return spec
