"""Default policies of cinder_volmig, named as Cinder names them."""

from oslo_policy import policy

from volmig_common import policy as volmig_policy

_PROJECT = ['project']


def _rule(name, check_str, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check_str, description=description,
        operations=[{'method': method, 'path': path}], scope_types=_PROJECT)


_MEMBER = volmig_policy.PROJECT_MEMBER_OR_ADMIN
_READER = volmig_policy.PROJECT_READER_OR_ADMIN

_RULES = [
    _rule('volume:create', _MEMBER, 'Create a volume.',
          'POST', '/volumes'),
    _rule('volume:get', _READER, 'Show a volume.',
          'GET', '/volumes/{volume_id}'),
    _rule('volume:get_all', _READER, 'List volumes.',
          'GET', '/volumes'),
    _rule('volume:delete', _MEMBER, 'Delete a volume.',
          'DELETE', '/volumes/{volume_id}'),
    _rule('volume:force_delete', volmig_policy.ADMIN,
          'Delete a volume in any state but attached or migrating.',
          'DELETE', '/volumes/{volume_id}?force=true'),
    _rule('volume:attachment_create', _MEMBER, 'Create an attachment.',
          'POST', '/attachments'),
    _rule('volume:attachment_get', _READER, 'Show an attachment.',
          'GET', '/attachments/{attachment_id}'),
    _rule('volume:attachment_get_all', _READER, 'List attachments.',
          'GET', '/attachments'),
    _rule('volume:attachment_update', _MEMBER,
          'Update an attachment with a connector.',
          'PUT', '/attachments/{attachment_id}'),
    _rule('volume:attachment_complete', _MEMBER,
          'Mark an attachment as attached.',
          'POST', '/attachments/{attachment_id}/action (os-complete)'),
    _rule('volume:attachment_delete', _MEMBER, 'Delete an attachment.',
          'DELETE', '/attachments/{attachment_id}'),
    _rule('volume_extension:volume_admin_actions:migrate_volume',
          volmig_policy.ADMIN, 'Migrate a volume to another backend.',
          'POST', '/volumes/{volume_id}/action (os-migrate_volume)'),
    _rule('volume_extension:services:index', volmig_policy.ADMIN,
          'List volume services.', 'GET', '/os-services'),
]


def list_rules():
    return _RULES
