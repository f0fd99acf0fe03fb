"""The plugin's logic without services: errors, the progress bar, watch."""

import argparse
import io
from unittest import mock

from osc_lib import exceptions
import pytest

from volmig_osc import client
from volmig_osc import migration


class Response:
    def __init__(self, status, body=None, reason='Conflict'):
        self.status_code = status
        self._body = body
        self.reason = reason

    def json(self):
        if self._body is None:
            raise ValueError('no JSON')
        return self._body


def test_error_message_from_either_body_shape():
    assert client._error(Response(409, {'error': {
        'message': 'busy', 'code': 409}})) == 'busy'
    assert client._error(Response(400, {'badRequest': {
        'message': 'bad', 'code': 400}})) == 'bad'
    assert client._error(Response(502, reason='Bad Gateway')) \
        == 'Bad Gateway'


def test_progress_bar():
    assert migration.progress_bar(0, 'starting', width=4) \
        == '[....]   0% starting'
    assert migration.progress_bar(50, 'migrating', width=4) \
        == '[##..]  50% migrating'
    assert migration.progress_bar(100, 'success', width=4) \
        == '[####] 100% success'


def _watch(volumes, **args):
    """Runs watch over successive volume states; returns its output."""
    fake = mock.Mock()
    fake.find_volume.return_value = volumes[0]
    fake.show_volume.side_effect = volumes[1:]
    app = mock.Mock(stdout=io.StringIO())
    app.client_manager.volume_migration = fake
    command = migration.WatchMigration(app, None)
    parsed = argparse.Namespace(volume='v1', interval=0, timeout=None)
    vars(parsed).update(args)
    try:
        command.take_action(parsed)
    finally:
        output = app.stdout.getvalue()
    return output


def _volume(status, progress):
    return {'id': 'v1', 'migration_status': status,
            'migration_progress': progress}


def test_watch_until_success_one_line_per_change():
    output = _watch([_volume('starting', None), _volume('migrating', 10),
                     _volume('migrating', 10), _volume('migrating', 70),
                     _volume('completing', 100), _volume('success', 100)])
    assert [line.split('] ')[1] for line in output.splitlines()] == [
        '  0% starting', ' 10% migrating', ' 70% migrating',
        '100% completing', '100% success']


def test_watch_fails_on_error():
    with pytest.raises(exceptions.CommandError, match='failed'):
        _watch([_volume('migrating', 30), _volume('error', 30)])


def test_watch_needs_admin_and_3_72():
    with pytest.raises(exceptions.CommandError, match='3.72'):
        _watch([{'id': 'v1', 'migration_status': 'migrating'}])


def test_watch_times_out():
    with pytest.raises(exceptions.CommandError, match='still migrating'):
        _watch([_volume('migrating', 5)] * 3, timeout=-1)
