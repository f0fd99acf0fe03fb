"""Errors of cinder_volmig, each with the HTTP status it means."""

from volmig_common import exception


class VolumeNotFound(exception.NotFound):
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class AttachmentNotFound(exception.NotFound):
    msg_fmt = 'Volume attachment %(attachment_id)s could not be found.'


class InvalidVolume(exception.Invalid):
    """Cinder answers 400, not 409, when a volume is in the wrong state."""

    msg_fmt = 'Invalid volume: %(reason)s'


class InvalidAttachment(exception.Invalid):
    msg_fmt = 'Invalid attachment: %(reason)s'


class VolumeMigrating(exception.Conflict):
    """An attachment change refused while the volume's data moves: a
    second writer would write where the copy no longer looks."""

    msg_fmt = ('Volume %(volume_id)s is under migration %(migration)s: '
               'its attachments cannot be %(action)s until the migration '
               'is over.')


class NoValidBackend(exception.Invalid):
    msg_fmt = 'No valid backend was found: %(reason)s'


class DriverNotFound(exception.VolmigException):
    msg_fmt = 'Volume driver %(name)s is unknown.'


class VolumeBackendError(exception.VolmigException):
    msg_fmt = 'Backend %(backend)s failed: %(reason)s'


class MigrationNotFound(exception.NotFound):
    msg_fmt = 'Volume migration %(migration_id)s could not be found.'


class NovaConflict(exception.Conflict):
    """Nova refused: it cannot suspend writes, or the state is wrong."""

    msg_fmt = 'Nova refused: %(reason)s'


class NovaNotFound(exception.NotFound):
    msg_fmt = 'Nova has no migration of attachment %(attachment_id)s.'


class NovaError(exception.VolmigException):
    msg_fmt = 'Calling Nova failed: %(reason)s'


class InvalidHost(exception.Invalid):
    msg_fmt = 'Invalid host: %(reason)s'


class InvalidMigrationStep(exception.VolmigException):
    """A step change the migration table does not allow: a bug."""

    msg_fmt = ('A volume migration cannot go from step %(step)s to '
               '%(next_step)s.')
