"""/v2.1/servers/{id}/os-volume_attachments: attach, list, detach."""

from oslo_utils import uuidutils
import pecan
from pecan import rest

from nova_volmig import policies
from nova_volmig import policy
from nova_volmig.api import types
from volmig_common import exception as common_exception

TAGS = '2.49'  # tag accepted on attach
TAG_SHOWN = '2.70'
DELETE_ON_TERMINATION = '2.79'
ATTACHMENT_IDS = '2.89'  # attachment_id and bdm_uuid replace id


def _view(bdm):
    version = pecan.request.version
    view = types.VolumeAttachment(
        serverId=bdm['instance_uuid'], volumeId=bdm['volume_id'],
        device=bdm['device_name'])
    if version >= TAG_SHOWN:
        view.tag = bdm['tag']
    if version >= DELETE_ON_TERMINATION:
        view.delete_on_termination = bdm['delete_on_termination']
    if version >= ATTACHMENT_IDS:
        view.attachment_id = bdm['attachment_id']
        view.bdm_uuid = bdm['uuid']
    else:
        view.id = bdm['volume_id']
    return view


def _authorize(server_id, rule):
    request = pecan.request
    instance = request.compute_api.get(request.context, server_id)
    policy.authorize(request.conf, request.context, rule,
                     {'project_id': instance['project_id']})


class VolumeAttachmentsController(rest.RestController):
    @types.wsexpose(types.VolumeAttachmentList, types.text)
    def get_all(self, server_id):
        _authorize(server_id, policies.ATTACHMENTS % 'index')
        bdms = pecan.request.compute_api.get_attachments(
            pecan.request.context, server_id)
        return types.VolumeAttachmentList(
            volumeAttachments=[_view(bdm) for bdm in bdms])

    @types.wsexpose(types.VolumeAttachmentResponse, types.text, types.text)
    def get_one(self, server_id, volume_id):
        _authorize(server_id, policies.ATTACHMENTS % 'show')
        bdm = pecan.request.compute_api.get_attachment(
            pecan.request.context, server_id, volume_id)
        return types.VolumeAttachmentResponse(volumeAttachment=_view(bdm))

    @types.wsexpose(types.VolumeAttachmentResponse, types.text,
                    body=types.VolumeAttachmentRequest)
    def post(self, server_id, body):
        _authorize(server_id, policies.ATTACHMENTS % 'create')
        request = pecan.request
        attach = body.volumeAttachment
        if not uuidutils.is_uuid_like(attach.volumeId):
            raise common_exception.Invalid(
                message='volumeId %s is not a UUID.' % attach.volumeId)
        for field, since in (('tag', TAGS),
                             ('delete_on_termination',
                              DELETE_ON_TERMINATION)):
            if (getattr(attach, field) is not types.Unset
                    and request.version < since):
                raise common_exception.Invalid(
                    message='%s needs microversion %s or later.'
                            % (field, since))
        tag = None if attach.tag is types.Unset else attach.tag
        if tag is not None and not 0 < len(tag) <= 60:
            raise common_exception.Invalid(
                message='tag must be 1 to 60 characters.')
        # The requested device name is a hint Nova's libvirt driver
        # ignores too: the next free virtio name is used.
        bdm = request.compute_api.attach_volume(
            request.context, server_id, attach.volumeId, tag=tag,
            delete_on_termination=attach.delete_on_termination is True)
        return types.VolumeAttachmentResponse(volumeAttachment=_view(bdm))

    @types.wsexpose(None, types.text, types.text, status_code=202)
    def delete(self, server_id, volume_id):
        _authorize(server_id, policies.ATTACHMENTS % 'delete')
        pecan.request.compute_api.detach_volume(pecan.request.context,
                                                server_id, volume_id)
