"""Default policies of the compute API, as Nova names them."""

from oslo_policy import policy

from volmig_common import policy as common_policy

SERVERS = 'os_compute_api:servers:%s'
ATTACHMENTS = 'os_compute_api:os-volumes-attachments:%s'
CONSOLE_OUTPUT = 'os_compute_api:os-console-output'
EXTENDED_ATTRIBUTES = 'os_compute_api:os-extended-server-attributes'
VOLUME_MIGRATIONS = 'os_compute_api:os-volume-migrations:%s'


def _rule(name, check, description, method, path):
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{'method': method, 'path': path}],
        scope_types=['project'])


def list_rules():
    reader = common_policy.PROJECT_READER_OR_ADMIN
    member = common_policy.PROJECT_MEMBER_OR_ADMIN
    server = '/servers/{server_id}'
    attachments = server + '/os-volume_attachments'
    # Only Cinder (the service role) and operators move volumes.
    migrator = common_policy.ADMIN_OR_SERVICE
    migrations = '/os-volume-migrations'
    migration = migrations + '/{attachment_id}'
    return [
        _rule(SERVERS % 'index', reader, 'List servers.', 'GET',
              '/servers'),
        _rule(SERVERS % 'detail', reader, 'List servers with details.',
              'GET', '/servers/detail'),
        _rule(SERVERS % 'show', reader, 'Show a server.', 'GET', server),
        _rule(SERVERS % 'create', member, 'Create a server.', 'POST',
              '/servers'),
        _rule(SERVERS % 'delete', member, 'Delete a server.', 'DELETE',
              server),
        _rule(SERVERS % 'start', member, 'Start a server.', 'POST',
              server + '/action (os-start)'),
        _rule(SERVERS % 'stop', member, 'Stop a server.', 'POST',
              server + '/action (os-stop)'),
        _rule(SERVERS % 'reboot', member, 'Reboot a server.', 'POST',
              server + '/action (reboot)'),
        _rule(CONSOLE_OUTPUT, member, 'Read a server\'s console output.',
              'POST', server + '/action (os-getConsoleOutput)'),
        _rule(EXTENDED_ATTRIBUTES, common_policy.ADMIN,
              'See the host and hypervisor name of a server.', 'GET',
              server),
        _rule(ATTACHMENTS % 'index', reader, 'List volume attachments.',
              'GET', attachments),
        _rule(ATTACHMENTS % 'show', reader, 'Show a volume attachment.',
              'GET', attachments + '/{volume_id}'),
        _rule(ATTACHMENTS % 'create', member, 'Attach a volume.', 'POST',
              attachments),
        _rule(ATTACHMENTS % 'delete', member, 'Detach a volume.',
              'DELETE', attachments + '/{volume_id}'),
        _rule(VOLUME_MIGRATIONS % 'start', migrator,
              'Start migrating an attached volume: suspend writes to it.',
              'POST', migrations),
        _rule(VOLUME_MIGRATIONS % 'cancel', migrator,
              'Cancel a volume migration: write to the source again.',
              'POST', migration + '/action (cancel)'),
        _rule(VOLUME_MIGRATIONS % 'complete', migrator,
              'Complete a volume migration: switch to the destination.',
              'POST', migration + '/action (complete)'),
        _rule(VOLUME_MIGRATIONS % 'show', migrator,
              'Show the newest migration of a volume attachment.', 'GET',
              migration),
        _rule(VOLUME_MIGRATIONS % 'list', migrator,
              'List volume migrations.', 'GET', migrations),
    ]
