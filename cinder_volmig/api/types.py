"""Every WSME type of the volume API, and the views that fill them.

Request bodies are validated by these types (unknown keys and wrong types
are 400s); responses are shaped as Cinder's.
"""

import json

from wsme import types as wtypes
import wsmeext.pecan as wsme_pecan

from volmig_common import exception

expose = wsme_pecan.wsexpose
text = wtypes.text

_TIME_FORMAT = '%Y-%m-%dT%H:%M:%S.%f'


def is_set(value):
    return value is not wtypes.Unset


def isotime(value):
    return value.strftime(_TIME_FORMAT) if value else None


class JsonType(wtypes.UserType):
    """Any JSON value (connectors, scheduler hints)."""

    basetype = wtypes.text
    name = 'json'

    def validate(self, value):
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise exception.Invalid(message='%r is not JSON' % (value,))
        return value

    frombasetype = validate


class JsonObjectType(JsonType):
    name = 'json_object'

    def validate(self, value):
        if value is not None and not isinstance(value, dict):
            raise exception.Invalid(
                message='Expected a JSON object, got %r' % (value,))
        return value

    frombasetype = validate


json_type = JsonType()
json_object = JsonObjectType()
metadata_type = wtypes.DictType(wtypes.text, wtypes.text)

SCHEDULER_HINTS = 'OS-SCH-HNT:scheduler_hints'


# Requests

class VolumeCreate(wtypes.Base):
    """Every key python-cinderclient and openstacksdk send on create."""

    size = wtypes.wsattr(int, mandatory=True)
    name = wtypes.text
    description = wtypes.text
    volume_type = wtypes.text
    availability_zone = wtypes.text
    metadata = metadata_type
    multiattach = bool
    # Sources and groups this service does not offer: must stay null.
    snapshot_id = wtypes.text
    source_volid = wtypes.text
    imageRef = wtypes.text
    backup_id = wtypes.text
    consistencygroup_id = wtypes.text
    group_id = wtypes.text
    scheduler_hints = wtypes.wsattr(json_object, name=SCHEDULER_HINTS)


class VolumeCreateBody(wtypes.Base):
    volume = wtypes.wsattr(VolumeCreate, mandatory=True)
    scheduler_hints = wtypes.wsattr(json_object, name=SCHEDULER_HINTS)


class VolumeActionBody(wtypes.Base):
    # An object checked by the controller: WSME fails with a server error
    # when a nested type gets a non-object.
    migrate_volume = wtypes.wsattr(json_object, name='os-migrate_volume')


class AttachmentCreate(wtypes.Base):
    volume_uuid = wtypes.wsattr(wtypes.text, mandatory=True)
    instance_uuid = wtypes.text
    connector = json_object
    mode = wtypes.Enum(str, 'rw', 'ro')


class AttachmentCreateBody(wtypes.Base):
    attachment = wtypes.wsattr(AttachmentCreate, mandatory=True)


class AttachmentUpdate(wtypes.Base):
    connector = wtypes.wsattr(json_object, mandatory=True)


class AttachmentUpdateBody(wtypes.Base):
    attachment = wtypes.wsattr(AttachmentUpdate, mandatory=True)


class AttachmentActionBody(wtypes.Base):
    complete = wtypes.wsattr(json_type, name='os-complete')


# Responses

class Link(wtypes.Base):
    href = wtypes.text
    rel = wtypes.text


def links(base_url, project_id, collection, resource_id):
    path = '%s/%s/%s' % (project_id, collection, resource_id)
    return [Link(href='%s/v3/%s' % (base_url, path), rel='self'),
            Link(href='%s/%s' % (base_url, path), rel='bookmark')]


class VolumeAttachmentSummary(wtypes.Base):
    id = wtypes.text
    attachment_id = wtypes.text
    volume_id = wtypes.text
    server_id = wtypes.text
    host_name = wtypes.text
    device = wtypes.text
    attached_at = wtypes.text


class VolumeSummary(wtypes.Base):
    id = wtypes.text
    name = wtypes.text
    links = [Link]


class Volume(wtypes.Base):
    id = wtypes.text
    name = wtypes.text
    description = wtypes.text
    size = int
    status = wtypes.text
    availability_zone = wtypes.text
    created_at = wtypes.text
    updated_at = wtypes.text
    attachments = [VolumeAttachmentSummary]
    bootable = wtypes.text
    encrypted = bool
    multiattach = bool
    metadata = metadata_type
    volume_type = wtypes.text
    user_id = wtypes.text
    snapshot_id = wtypes.text
    source_volid = wtypes.text
    consistencygroup_id = wtypes.text
    replication_status = wtypes.text
    migration_status = wtypes.text
    links = [Link]
    host = wtypes.wsattr(wtypes.text, name='os-vol-host-attr:host')
    tenant_id = wtypes.wsattr(wtypes.text, name='os-vol-tenant-attr:tenant_id')
    migstat = wtypes.wsattr(wtypes.text, name='os-vol-mig-status-attr:migstat')
    name_id = wtypes.wsattr(wtypes.text, name='os-vol-mig-status-attr:name_id')
    # Microversioned fields, absent (Unset) below their version.
    group_id = wtypes.text
    provider_id = wtypes.text
    service_uuid = wtypes.text
    shared_targets = bool
    cluster_name = wtypes.text
    volume_type_id = wtypes.text
    consumes_quota = bool
    migration_progress = int


class VolumeBody(wtypes.Base):
    volume = Volume


class VolumeList(wtypes.Base):
    volumes = [VolumeSummary]


class VolumeDetailList(wtypes.Base):
    volumes = [Volume]


class Attachment(wtypes.Base):
    id = wtypes.text
    status = wtypes.text
    instance = wtypes.text
    volume_id = wtypes.text
    attached_at = wtypes.text
    detached_at = wtypes.text
    attach_mode = wtypes.text
    connection_info = json_object


class AttachmentBody(wtypes.Base):
    attachment = Attachment


class AttachmentList(wtypes.Base):
    attachments = [Attachment]


class Service(wtypes.Base):
    binary = wtypes.text
    host = wtypes.text
    zone = wtypes.text
    status = wtypes.text
    state = wtypes.text
    updated_at = wtypes.text
    disabled_reason = wtypes.text
    cluster = wtypes.text
    replication_status = wtypes.text
    active_backend_id = wtypes.text
    frozen = bool
    backend_state = wtypes.text


class ServiceList(wtypes.Base):
    services = [Service]
