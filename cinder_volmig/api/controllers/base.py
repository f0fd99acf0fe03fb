"""Helpers every volume API controller uses."""

from oslo_utils import strutils
import pecan

from cinder_volmig import policy
from volmig_common import exception


def authorize(rule):
    """Checks ``rule``, and that a project in the URL is the caller's."""
    request = pecan.request
    context = request.context
    url_project_id = getattr(request, 'url_project_id', None)
    if (url_project_id not in (None, context.project_id)
            and not context.is_admin):
        raise exception.Invalid(
            message='Malformed request URL: project %s in the URL is not '
                    'the project of the token.' % url_project_id)
    policy.authorize(request.enforcer, context, rule)


def require_version(minimum):
    """Resources added at a microversion are unknown (404) below it."""
    if pecan.request.version < minimum:
        raise exception.NotFound(
            message='The resource requires volume API version %s or later.'
                    % minimum)


def as_bool(name, value):
    try:
        return strutils.bool_from_string(value, strict=True)
    except ValueError:
        raise exception.Invalid(
            message='%s must be a boolean, got %r.' % (name, value))


def as_limit(value):
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError:
        limit = -1
    if limit < 0:
        raise exception.Invalid(
            message='limit must be a non-negative integer, got %r.' % value)
    return limit
