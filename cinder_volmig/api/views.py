"""Database rows to API types, as Cinder shows them at each version."""

from cinder_volmig import policies
from cinder_volmig import policy
from cinder_volmig.api import types


def _allowed(request, rule):
    return policy.check(request.enforcer, request.context, rule)


def _attachment_summary(attachment):
    return types.VolumeAttachmentSummary(
        id=attachment.volume_id,
        attachment_id=attachment.id,
        volume_id=attachment.volume_id,
        server_id=attachment.instance_uuid,
        host_name=attachment.attached_host,
        device=attachment.mountpoint,
        attached_at=types.isotime(attachment.attach_time))


def volume_summary(request, volume):
    return types.VolumeSummary(
        id=volume.id, name=volume.display_name,
        links=types.links(request.host_url, volume.project_id, 'volumes',
                          volume.id))


def volume(request, volume):
    version = request.version
    view = types.Volume(
        id=volume.id,
        name=volume.display_name,
        description=volume.display_description,
        size=volume.size,
        status=volume.status,
        availability_zone=volume.availability_zone,
        created_at=types.isotime(volume.created_at),
        updated_at=types.isotime(volume.updated_at),
        # Attachments still being set up are not shown, as in Cinder.
        attachments=[_attachment_summary(a) for a in volume.attachments
                     if a.attach_status == 'attached'],
        bootable='true' if volume.bootable else 'false',
        encrypted=False,
        multiattach=volume.multiattach,
        metadata=volume.volume_metadata or {},
        volume_type=volume.volume_type,
        user_id=volume.user_id,
        snapshot_id=None,
        source_volid=None,
        consistencygroup_id=None,
        replication_status=None,
        links=types.links(request.host_url, volume.project_id, 'volumes',
                          volume.id))
    host_allowed = _allowed(request, policies.HOST_ATTRIBUTE)
    if host_allowed:
        view.host = volume.host
    if _allowed(request, policies.TENANT_ATTRIBUTE):
        view.tenant_id = volume.project_id
    if _allowed(request, policies.MIG_STATUS_ATTRIBUTE):
        view.migration_status = volume.migration_status
        view.migstat = volume.migration_status
        view.name_id = volume.name_id or volume.id
    if version >= '3.13':
        view.group_id = None
    if version >= '3.21':
        view.provider_id = None
    if version >= '3.48':
        view.service_uuid = volume.service_uuid
        view.shared_targets = False
    if version >= '3.61' and host_allowed:
        view.cluster_name = None
    if version >= '3.63':
        view.volume_type_id = None
    if version >= '3.65':
        view.consumes_quota = True
    if version >= '3.72' and _allowed(request,
                                      policies.MIG_PROGRESS_ATTRIBUTE):
        # The latest migration's percentage; null if it never moved.
        view.migration_progress = (volume.migrations[0].progress
                                   if volume.migrations else None)
    return view


def attachment(attachment, detail=True):
    view = types.Attachment(
        id=attachment.id,
        status=attachment.attach_status,
        instance=attachment.instance_uuid,
        volume_id=attachment.volume_id)
    if detail:
        view.attached_at = types.isotime(attachment.attach_time)
        view.detached_at = types.isotime(attachment.detach_time)
        view.attach_mode = attachment.attach_mode
        view.connection_info = attachment.connection_info or {}
    return view


def service(request, service, is_up):
    view = types.Service(
        binary=service.binary,
        host=service.host,
        zone=service.availability_zone,
        status='disabled' if service.disabled else 'enabled',
        state='up' if is_up else 'down',
        updated_at=types.isotime(service.updated_at),
        disabled_reason=service.disabled_reason,
        replication_status='disabled',
        active_backend_id=None,
        frozen=False)
    if request.version >= '3.7':
        view.cluster = None
    if request.version >= '3.49':
        view.backend_state = 'up' if is_up else 'down'
    return view
