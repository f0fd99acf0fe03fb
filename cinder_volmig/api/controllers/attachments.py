"""``/v3/{project_id}/attachments`` (microversion 3.27, os-complete 3.44)."""

import pecan
from pecan import rest

from cinder_volmig.api import types
from cinder_volmig.api import views
from cinder_volmig.api.controllers import base
from volmig_common import exception

ATTACHMENTS_VERSION = '3.27'
COMPLETE_VERSION = '3.44'


def _list(volume_id, instance_id, all_tenants):
    request = pecan.request
    filters = {}
    if volume_id is not None:
        filters['volume_id'] = volume_id
    if instance_id is not None:
        filters['instance_uuid'] = instance_id
    all_tenants = (all_tenants is not None
                   and base.as_bool('all_tenants', all_tenants))
    return request.volume_api.attachment_get_all(
        request.context, filters=filters, all_tenants=all_tenants)


class AttachmentsController(rest.RestController):
    _custom_actions = {'detail': ['GET'], 'action': ['POST']}

    @types.expose(types.AttachmentList, types.text, types.text, types.text)
    def get_all(self, volume_id=None, instance_id=None, all_tenants=None):
        base.authorize('volume:attachment_get_all')
        base.require_version(ATTACHMENTS_VERSION)
        return types.AttachmentList(attachments=[
            views.attachment(a, detail=False)
            for a in _list(volume_id, instance_id, all_tenants)])

    @types.expose(types.AttachmentList, types.text, types.text, types.text)
    def detail(self, volume_id=None, instance_id=None, all_tenants=None):
        base.authorize('volume:attachment_get_all')
        base.require_version(ATTACHMENTS_VERSION)
        return types.AttachmentList(attachments=[
            views.attachment(a)
            for a in _list(volume_id, instance_id, all_tenants)])

    @types.expose(types.AttachmentBody, types.text)
    def get_one(self, attachment_id):
        base.authorize('volume:attachment_get')
        base.require_version(ATTACHMENTS_VERSION)
        request = pecan.request
        return types.AttachmentBody(attachment=views.attachment(
            request.volume_api.attachment_get(request.context,
                                              attachment_id)))

    @types.expose(types.AttachmentBody, body=types.AttachmentCreateBody,
                  status_code=200)
    def post(self, body):
        base.authorize('volume:attachment_create')
        base.require_version(ATTACHMENTS_VERSION)
        request = pecan.request
        spec = body.attachment
        attachment = request.volume_api.attachment_create(
            request.context, spec.volume_uuid,
            instance_uuid=spec.instance_uuid or None,
            connector=spec.connector or None,
            mode=spec.mode or 'rw')
        return types.AttachmentBody(attachment=views.attachment(attachment))

    @types.expose(types.AttachmentBody, types.text,
                  body=types.AttachmentUpdateBody)
    def put(self, attachment_id, body):
        base.authorize('volume:attachment_update')
        base.require_version(ATTACHMENTS_VERSION)
        request = pecan.request
        connector = body.attachment.connector
        if not connector:
            raise exception.Invalid(message='A connector is required.')
        attachment = request.volume_api.attachment_update(
            request.context, attachment_id, connector)
        return types.AttachmentBody(attachment=views.attachment(attachment))

    @types.expose(None, types.text, body=types.AttachmentActionBody,
                  status_code=204)
    def action(self, attachment_id, body):
        base.authorize('volume:attachment_complete')
        base.require_version(COMPLETE_VERSION)
        if not types.is_set(body.complete):
            raise exception.Invalid(
                message='The only attachment action is os-complete.')
        request = pecan.request
        request.volume_api.attachment_complete(request.context,
                                               attachment_id)

    @types.expose(types.AttachmentList, types.text)
    def delete(self, attachment_id):
        """Answers with the attachments the volume has left, as Cinder."""
        base.authorize('volume:attachment_delete')
        base.require_version(ATTACHMENTS_VERSION)
        request = pecan.request
        remaining = request.volume_api.attachment_delete(request.context,
                                                         attachment_id)
        return types.AttachmentList(attachments=[
            views.attachment(a, detail=False) for a in remaining])
