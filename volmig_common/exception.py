"""Exceptions that carry their HTTP meaning.

WSME turns any exception with a 4xx ``code`` attribute into a client error
with that status, so service code raises these and never builds responses.
"""


class VolmigException(Exception):
    code = 500
    msg_fmt = 'An unknown exception occurred.'

    def __init__(self, message=None, **kwargs):
        self.kwargs = kwargs
        if message is None:
            message = self.msg_fmt % kwargs if kwargs else self.msg_fmt
        self.message = message
        super().__init__(message)

    @property
    def faultstring(self):
        return self.message


class Invalid(VolmigException):
    code = 400
    msg_fmt = 'Invalid input: %(reason)s'


class Forbidden(VolmigException):
    code = 403
    msg_fmt = 'Policy does not allow this action.'


class NotFound(VolmigException):
    code = 404
    msg_fmt = 'Resource could not be found.'


class Conflict(VolmigException):
    code = 409
    msg_fmt = 'Conflict: %(reason)s'


class VersionNotAcceptable(VolmigException):
    code = 406
    msg_fmt = ('Version %(version)s is not supported by the API. '
               'Minimum is %(min)s and maximum is %(max)s.')


class ServiceUnavailable(VolmigException):
    code = 503
    msg_fmt = 'Service unavailable: %(reason)s'
