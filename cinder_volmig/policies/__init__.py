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
# Nova (the service role) reads and attaches the volumes of any project.
_MEMBER_OR_SERVICE = '%s or %s' % (_MEMBER, volmig_policy.SERVICE)
_READER_OR_SERVICE = '%s or %s' % (_READER, volmig_policy.SERVICE)

HOST_ATTRIBUTE = 'volume_extension:volume_host_attribute'
TENANT_ATTRIBUTE = 'volume_extension:volume_tenant_attribute'
MIG_STATUS_ATTRIBUTE = 'volume_extension:volume_mig_status_attribute'
MIG_PROGRESS_ATTRIBUTE = 'volume_extension:volume_mig_progress_attribute'

_RULES = [
    _rule('volume:create', _MEMBER, 'Create a volume.',
          'POST', '/volumes'),
    _rule('volume:get', _READER_OR_SERVICE, 'Show a volume.',
          'GET', '/volumes/{volume_id}'),
    _rule('volume:get_all', _READER, 'List volumes.',
          'GET', '/volumes'),
    _rule('volume:delete', _MEMBER, 'Delete a volume.',
          'DELETE', '/volumes/{volume_id}'),
    _rule('volume:force_delete', volmig_policy.ADMIN,
          'Delete a volume in any state but attached or migrating.',
          'DELETE', '/volumes/{volume_id}?force=true'),
    _rule('volume:attachment_create', _MEMBER_OR_SERVICE,
          'Create an attachment.',
          'POST', '/attachments'),
    _rule('volume:attachment_get', _READER_OR_SERVICE,
          'Show an attachment.',
          'GET', '/attachments/{attachment_id}'),
    _rule('volume:attachment_get_all', _READER, 'List attachments.',
          'GET', '/attachments'),
    _rule('volume:attachment_update', _MEMBER_OR_SERVICE,
          'Update an attachment with a connector.',
          'PUT', '/attachments/{attachment_id}'),
    _rule('volume:attachment_complete', _MEMBER_OR_SERVICE,
          'Mark an attachment as attached.',
          'POST', '/attachments/{attachment_id}/action (os-complete)'),
    _rule('volume:attachment_delete', _MEMBER_OR_SERVICE,
          'Delete an attachment.',
          'DELETE', '/attachments/{attachment_id}'),
    _rule('volume_extension:volume_admin_actions:migrate_volume',
          volmig_policy.ADMIN, 'Migrate a volume to another backend.',
          'POST', '/volumes/{volume_id}/action (os-migrate_volume)'),
    _rule(HOST_ATTRIBUTE, volmig_policy.ADMIN,
          'See the os-vol-host-attr:host (and cluster_name) of a volume.',
          'GET', '/volumes/{volume_id}'),
    _rule(TENANT_ATTRIBUTE, volmig_policy.ADMIN,
          'See the os-vol-tenant-attr:tenant_id of a volume.',
          'GET', '/volumes/{volume_id}'),
    _rule(MIG_STATUS_ATTRIBUTE, volmig_policy.ADMIN,
          'See migration_status and the os-vol-mig-status-attr:migstat '
          'and name_id of a volume.', 'GET', '/volumes/{volume_id}'),
    _rule(MIG_PROGRESS_ATTRIBUTE, volmig_policy.ADMIN,
          'See the migration_progress of a volume (3.72).',
          'GET', '/volumes/{volume_id}'),
    _rule('volume_extension:services:index', volmig_policy.ADMIN,
          'List volume services.', 'GET', '/os-services'),
]


def list_rules():
    return _RULES
