"""nova_volmig's exceptions; each carries the HTTP status it means."""

from volmig_common import exception as common


class InstanceNotFound(common.NotFound):
    msg_fmt = 'Instance %(instance_id)s could not be found.'


class ImageNotFound(common.NotFound):
    msg_fmt = 'Image %(image_id)s could not be found.'


class InvalidImageRef(common.Invalid):
    msg_fmt = 'Can not find requested image %(image_id)s.'


class FlavorNotFound(common.NotFound):
    msg_fmt = 'Flavor %(flavor_id)s could not be found.'


class InvalidFlavorRef(common.Invalid):
    msg_fmt = 'Invalid flavorRef provided: %(flavor_id)s.'


class VolumeNotFound(common.NotFound):
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class VolumeAttachmentNotFound(common.NotFound):
    msg_fmt = ('Volume %(volume_id)s is not attached to instance '
               '%(instance_id)s.')


class VolumeAlreadyAttached(common.Conflict):
    msg_fmt = ('Volume %(volume_id)s is already attached to instance '
               '%(instance_id)s.')


class InvalidVolume(common.Invalid):
    msg_fmt = 'Invalid volume: %(reason)s'


class InstanceInvalidState(common.Conflict):
    msg_fmt = ('Cannot %(action)s instance %(instance_id)s while it is in '
               'vm_state %(vm_state)s, task_state %(task_state)s.')


class NoFreeDevice(common.Conflict):
    msg_fmt = 'Instance %(instance_id)s has no free disk device name left.'


class VolumeServiceError(common.ServiceUnavailable):
    msg_fmt = 'The volume service failed: %(reason)s'


class ComputeUnavailable(common.ServiceUnavailable):
    msg_fmt = 'The compute service did not answer: %(reason)s'


class HypervisorError(common.VolmigException):
    msg_fmt = 'Hypervisor error: %(reason)s'


class DomainNotFound(HypervisorError):
    msg_fmt = 'Domain %(name)s does not exist.'


class DeviceDetachFailed(HypervisorError):
    code = 409
    msg_fmt = ('Device %(device)s did not leave instance %(instance_id)s '
               'within %(timeout)s seconds.')


class InstanceSpawnFailed(HypervisorError):
    msg_fmt = 'Instance %(instance_id)s could not be started: %(reason)s'


class VolumeMigrationNotFound(common.NotFound):
    msg_fmt = 'No volume migration of attachment %(attachment_id)s.'


class VolumeMigrationInvalidState(common.Conflict):
    msg_fmt = 'Cannot %(event)s a volume migration that is %(status)s.'


class VolumeMigrationInProgress(common.Conflict):
    msg_fmt = ('Instance %(instance_id)s is busy with the migration of '
               'volume attachment %(attachment_id)s (%(status)s).')


class VolumeMigrationNoSpace(HypervisorError):
    code = 409
    msg_fmt = ('Not enough room for %(what)s of a volume migration: '
               '%(free)d MiB free, %(needed)d MiB needed and %(reserve)d MiB '
               'to keep free.')


class VolumeMigrationNotPossible(common.Conflict):
    msg_fmt = ('Writes to attachment %(attachment_id)s cannot be suspended: '
               '%(reason)s')


class AttachmentNotInUse(common.NotFound):
    msg_fmt = 'Volume attachment %(attachment_id)s is not used by any server.'


class BlockJobFailed(HypervisorError):
    msg_fmt = 'The block job on disk %(disk)s of %(domain)s failed.'


class BlockJobTimeout(HypervisorError):
    msg_fmt = ('The block job on disk %(disk)s of %(domain)s did not finish '
               'within %(timeout)s seconds.')


class VolumeMigrationTargetMismatch(common.Conflict):
    msg_fmt = ('The migration of attachment %(attachment_id)s already '
               'switches to attachment %(new_attachment_id)s.')


class VolumeMigrationSwitchPending(common.ServiceUnavailable):
    msg_fmt = ('The switch of attachment %(attachment_id)s to its '
               'destination is still under way; ask again.')


class VolumeMigrationSwitchFailed(common.Conflict):
    msg_fmt = ('The switch of attachment %(attachment_id)s to its '
               'destination failed (%(status)s): %(reason)s')
