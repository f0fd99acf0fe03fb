"""/v2.1/os-volume-migrations: migrations of attached volumes (2.105).

Cinder drives a migration: start (writes to the source stop), its own
copy, then complete (switch to the destination) or cancel. Every call is
keyed by the source attachment.
"""

import json

from oslo_utils import uuidutils
import pecan
from pecan import rest

from nova_volmig import policies
from nova_volmig import policy
from nova_volmig.api import microversions
from nova_volmig.api import types
from nova_volmig.compute import migration_states
from nova_volmig.db import api as db
from volmig_common import exception as common_exception


def _authorize(action):
    request = pecan.request
    policy.authorize(request.conf, request.context,
                     policies.VOLUME_MIGRATIONS % action)


def _check_uuid(name, value):
    if not isinstance(value, str) or not uuidutils.is_uuid_like(value):
        raise common_exception.Invalid(
            message='%s must be a UUID, not %s.' % (name, json.dumps(value)))


def _record(migration):
    return {
        'attachment_id': migration['attachment_id'],
        'new_attachment_id': migration['new_attachment_id'],
        'server_id': migration['instance_uuid'],
        'volume_id': migration['volume_id'],
        'mode': migration['mode'],
        'status': migration['status'],
        'progress': migration['progress'],
        'error': migration['error'],
        'created_at': db.isotime(migration['created_at']),
        'updated_at': db.isotime(migration['updated_at']),
    }


def _view(migration):
    return types.VolumeMigration(**_record(migration))


class VolumeMigrationActionController(rest.RestController):
    """POST /os-volume-migrations/{attachment_id}/action: cancel, complete."""

    def _cancel(self, attachment_id, value):
        _authorize('cancel')
        if value is not None:
            raise common_exception.Invalid(
                message='cancel takes no argument: {"cancel": null}.')
        pecan.request.compute_api.cancel_volume_migration(
            pecan.request.context, attachment_id)

    def _complete(self, attachment_id, value):
        _authorize('complete')
        if not isinstance(value, dict) or set(value) != {'new_attachment_id'}:
            raise common_exception.Invalid(
                message='complete takes exactly '
                        '{"new_attachment_id": UUID}.')
        _check_uuid('new_attachment_id', value['new_attachment_id'])
        migration = pecan.request.compute_api.complete_volume_migration(
            pecan.request.context, attachment_id, value['new_attachment_id'])
        return {'volume_migration': _record(migration)}

    _ACTIONS = {'cancel': _cancel, 'complete': _complete}

    @pecan.expose(content_type='application/json')
    def post(self, attachment_id):
        body = pecan.request.json if pecan.request.body else None
        if (not isinstance(body, dict) or len(body) != 1
                or not body.keys() <= self._ACTIONS.keys()):
            raise common_exception.Invalid(
                message='The action body must hold exactly one action: '
                        'cancel or complete.')
        (name, value), = body.items()
        result = self._ACTIONS[name](self, attachment_id, value)
        if result is None:
            # Accepted: the rest of the action runs in the background.
            pecan.response.status = 202
            return ''
        return json.dumps(result)


class VolumeMigrationsController(rest.RestController):
    action = VolumeMigrationActionController()

    @pecan.expose()
    def _route(self, args, request=None):
        # Pecan routes before the hooks run, so the version is read here:
        # below its microversion the resource does not exist at all.
        request = request or pecan.request
        version = microversions.VERSIONS.negotiate(request.headers)
        if version < microversions.VOLUME_MIGRATIONS:
            pecan.abort(404)
        return super()._route(args, request)

    @types.wsexpose(types.VolumeMigrationList, types.text, types.text,
                    types.text)
    def get_all(self, server_id=None, volume_id=None, status=None):
        _authorize('list')
        for name, value in (('server_id', server_id),
                            ('volume_id', volume_id)):
            if value is not None:
                _check_uuid(name, value)
        if status is not None and status not in migration_states.STATUSES:
            raise common_exception.Invalid(
                message='status must be one of %s.'
                        % ', '.join(migration_states.STATUSES))
        migrations = pecan.request.compute_api.get_volume_migrations(
            pecan.request.context, server_id=server_id,
            volume_id=volume_id, status=status)
        return types.VolumeMigrationList(
            volume_migrations=[_view(m) for m in migrations])

    @types.wsexpose(types.VolumeMigrationResponse, types.text)
    def get_one(self, attachment_id):
        _authorize('show')
        migration = pecan.request.compute_api.get_volume_migration(
            pecan.request.context, attachment_id)
        return types.VolumeMigrationResponse(
            volume_migration=_view(migration))

    @types.wsexpose(types.VolumeMigrationResponse,
                    body=types.VolumeMigrationStartRequest)
    def post(self, body):
        _authorize('start')
        attachment_id = body.volume_migration.attachment_id
        _check_uuid('attachment_id', attachment_id)
        migration = pecan.request.compute_api.start_volume_migration(
            pecan.request.context, attachment_id)
        return types.VolumeMigrationResponse(
            volume_migration=_view(migration))
