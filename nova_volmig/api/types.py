"""Every WSME type of the compute API (and the only WSME import site)."""

import json

from wsme import exc as wexc
from wsme import types as wtypes
from wsme.rest import json as wjson
import wsmeext.pecan as wsme_pecan

wsexpose = wsme_pecan.wsexpose
text = wtypes.text
Unset = wtypes.Unset


def _named(datatype, name, **kwargs):
    return wtypes.wsattr(datatype, name=name, **kwargs)


def _json_object(name):
    """Class decorator: a request member ``name`` that must be an object.

    WSME assumes an object where a type expects one (and lets null past a
    mandatory attribute), failing with a server error otherwise; this
    answers 400 instead.
    """
    def decorate(datatype):
        @wjson.fromjson.when_object(datatype)
        def from_json(datatype, value):
            if not isinstance(value, dict):
                raise wexc.ClientSideError(
                    '%s must be an object, not %s.'
                    % (name, json.dumps(value)))
            return wjson.fromjson.default(datatype, value)
        return datatype
    return decorate


class Link(wtypes.Base):
    href = text
    rel = text


class ServerImage(wtypes.Base):
    id = text
    links = [Link]


class ServerFlavor(wtypes.Base):
    # Before 2.47 a reference; from 2.47 a copy of the flavor.
    id = text
    links = [Link]
    original_name = text
    ram = int
    vcpus = int
    disk = int
    ephemeral = int
    swap = int
    extra_specs = {text: text}


class VolumeAttached(wtypes.Base):
    id = text
    delete_on_termination = bool


class Address(wtypes.Base):
    version = int
    addr = text


class Server(wtypes.Base):
    id = text
    name = text
    links = [Link]
    status = text
    tenant_id = text
    user_id = text
    created = text
    updated = text
    hostId = text
    image = ServerImage
    flavor = ServerFlavor
    metadata = {text: text}
    addresses = {text: wtypes.ArrayType(Address)}
    progress = int
    vm_state = _named(text, 'OS-EXT-STS:vm_state')
    task_state = _named(text, 'OS-EXT-STS:task_state')
    power_state = _named(int, 'OS-EXT-STS:power_state')
    host = _named(text, 'OS-EXT-SRV-ATTR:host')
    instance_name = _named(text, 'OS-EXT-SRV-ATTR:instance_name')
    volumes_attached = _named([VolumeAttached],
                              'os-extended-volumes:volumes_attached')


class ServerResponse(wtypes.Base):
    server = Server


class ServerList(wtypes.Base):
    servers = [Server]


@_json_object('server')
class ServerCreate(wtypes.Base):
    name = wtypes.wsattr(text, mandatory=True)
    imageRef = wtypes.wsattr(text, mandatory=True)
    flavorRef = wtypes.wsattr(text, mandatory=True)
    metadata = {text: text}
    # Accepted for clients that always send it; guests have no NICs.
    networks = wtypes.Enum(text, 'auto', 'none')


class ServerCreateRequest(wtypes.Base):
    server = wtypes.wsattr(ServerCreate, mandatory=True)


class VolumeAttachment(wtypes.Base):
    id = text
    serverId = text
    volumeId = text
    device = text
    tag = text
    delete_on_termination = bool
    attachment_id = text
    bdm_uuid = text


class VolumeAttachmentResponse(wtypes.Base):
    volumeAttachment = VolumeAttachment


class VolumeAttachmentList(wtypes.Base):
    volumeAttachments = [VolumeAttachment]


@_json_object('volumeAttachment')
class VolumeAttachmentCreate(wtypes.Base):
    volumeId = wtypes.wsattr(text, mandatory=True)
    device = text
    tag = text
    delete_on_termination = bool


class VolumeAttachmentRequest(wtypes.Base):
    volumeAttachment = wtypes.wsattr(VolumeAttachmentCreate, mandatory=True)


class Image(wtypes.Base):
    id = text
    name = text
    status = text
    progress = int
    minDisk = int
    minRam = int
    created = text
    updated = text
    links = [Link]
    metadata = {text: text}
    size = _named(int, 'OS-EXT-IMG-SIZE:size')


class ImageResponse(wtypes.Base):
    image = Image


class ImageList(wtypes.Base):
    images = [Image]


class Flavor(wtypes.Base):
    id = text
    name = text
    ram = int
    vcpus = int
    disk = int
    swap = text
    rxtx_factor = float
    links = [Link]
    ephemeral = _named(int, 'OS-FLV-EXT-DATA:ephemeral')
    is_public = _named(bool, 'os-flavor-access:is_public')
    disabled = _named(bool, 'OS-FLV-DISABLED:disabled')
    description = text
    extra_specs = {text: text}


class FlavorResponse(wtypes.Base):
    flavor = Flavor


class FlavorList(wtypes.Base):
    flavors = [Flavor]


class VolumeMigration(wtypes.Base):
    attachment_id = text
    new_attachment_id = text
    server_id = text
    volume_id = text
    mode = text
    status = text
    progress = int
    error = text
    created_at = text
    updated_at = text


class VolumeMigrationResponse(wtypes.Base):
    volume_migration = VolumeMigration


class VolumeMigrationList(wtypes.Base):
    volume_migrations = [VolumeMigration]


@_json_object('volume_migration')
class VolumeMigrationStart(wtypes.Base):
    attachment_id = wtypes.wsattr(text, mandatory=True)


class VolumeMigrationStartRequest(wtypes.Base):
    volume_migration = wtypes.wsattr(VolumeMigrationStart, mandatory=True)
