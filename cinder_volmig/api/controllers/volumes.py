"""``/v3/{project_id}/volumes``."""

import pecan
from pecan import rest

from cinder_volmig.api import types
from cinder_volmig.api import views
from cinder_volmig.api.controllers import base
from volmig_common import exception

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
    _custom_actions = {'detail': ['GET']}

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
