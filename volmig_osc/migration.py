"""``openstack volume migration`` commands."""

import time

from osc_lib import exceptions
from osc_lib.command import command

from volmig_common import migration_contract as contract

COLUMNS = ('attachment_id', 'new_attachment_id', 'server_id', 'volume_id',
           'mode', 'status', 'progress', 'error', 'created_at', 'updated_at')
LIST_COLUMNS = ('attachment_id', 'server_id', 'volume_id', 'mode', 'status',
                'progress', 'updated_at')
STATUSES = contract.STATUSES


def _show(record):
    return COLUMNS, tuple(record[c] for c in COLUMNS)


class ListMigration(command.Lister):
    """List volume migrations known to the compute service."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--server', metavar='<server-id>',
                            help='Only migrations of this server')
        parser.add_argument('--volume', metavar='<volume-id>',
                            help='Only migrations of this volume')
        parser.add_argument('--status', metavar='<status>',
                            choices=STATUSES,
                            help='Only migrations in this status')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        records = client.list_migrations(server_id=parsed_args.server,
                                         volume_id=parsed_args.volume,
                                         status=parsed_args.status)
        return LIST_COLUMNS, [tuple(r[c] for c in LIST_COLUMNS)
                              for r in records]


class ShowMigration(command.ShowOne):
    """Show the migration of a source attachment."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('attachment', metavar='<attachment-id>',
                            help='Source attachment of the migration')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        return _show(client.show_migration(parsed_args.attachment))


class StartMigration(command.ShowOne):
    """Stop a server's writes to a volume attachment (Cinder's step)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('attachment', metavar='<attachment-id>',
                            help='Source attachment: its writes stop')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        return _show(client.start_migration(parsed_args.attachment))


class CompleteMigration(command.ShowOne):
    """Switch a server from the source attachment to the destination."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('attachment', metavar='<attachment-id>',
                            help='Source attachment of the migration')
        parser.add_argument('--new-attachment', metavar='<attachment-id>',
                            required=True,
                            help='Destination attachment, holding a copy '
                                 'of the source as of start')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        return _show(client.complete_migration(parsed_args.attachment,
                                               parsed_args.new_attachment))


class CancelMigration(command.Command):
    """Let a server write to the source attachment again."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('attachment', metavar='<attachment-id>',
                            help='Source attachment of the migration')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        client.cancel_migration(parsed_args.attachment)


def progress_bar(percent, status, width=40):
    done = width * percent // 100
    return '[%s%s] %3d%% %s' % ('#' * done, '.' * (width - done), percent,
                                status)


class WatchMigration(command.Command):
    """Follow a volume's migration until it succeeds or fails.

    Shows a progress bar from the volume's ``migration_progress`` (volume
    API 3.72, admin only) and exits non-zero when the migration ends in
    ``error``.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('volume', metavar='<volume>',
                            help='Volume being migrated (name or ID)')
        parser.add_argument('--interval', metavar='<seconds>', type=float,
                            default=1.0, help='Seconds between two polls')
        parser.add_argument('--timeout', metavar='<seconds>', type=float,
                            help='Give up (non-zero exit) after this long')
        return parser

    def take_action(self, parsed_args):
        client = self.app.client_manager.volume_migration
        volume = client.find_volume(parsed_args.volume)
        deadline = (None if parsed_args.timeout is None
                    else time.monotonic() + parsed_args.timeout)
        out = self.app.stdout
        # On a terminal the bar redraws in place; elsewhere (a log, a
        # test) each change is its own line.
        end = '\r' if out.isatty() else '\n'
        shown = None
        while True:
            status = volume.get('migration_status')
            if 'migration_progress' not in volume:
                raise exceptions.CommandError(
                    'volume %s shows no migration_progress: it needs the '
                    'admin role and volume API 3.72' % volume['id'])
            percent = volume['migration_progress'] or 0
            if status == 'success':
                percent = 100
            line = progress_bar(percent, status or 'not migrating')
            if line != shown:
                out.write(line + end)
                out.flush()
                shown = line
            if status in ('success', 'error', None):
                break
            if deadline is not None and time.monotonic() > deadline:
                out.write('\n' if end == '\r' else '')
                raise exceptions.CommandError(
                    'volume %s still migrating after %ss'
                    % (volume['id'], parsed_args.timeout))
            time.sleep(parsed_args.interval)
            volume = client.show_volume(volume['id'])
        if end == '\r':
            out.write('\n')
        if status == 'error':
            raise exceptions.CommandError(
                'migration of volume %s failed' % volume['id'])
        if status is None:
            raise exceptions.CommandError(
                'volume %s is not being migrated' % volume['id'])
