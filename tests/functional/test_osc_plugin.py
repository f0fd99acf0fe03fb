"""The openstackclient plugin (volmig_osc) against the embedded default.

``openstack volume migration start|complete|cancel`` play Cinder's part
on a real attached volume of a writing test guest; ``watch`` follows a
``cinder migrate`` to its end.
"""

import json
import re

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import volumes

FULL_BACKEND = deployment_mod.FULL_BACKEND
BAR = re.compile(r'^\[[#.]+\]\s+(\d+)% (\S+)$')


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    # backend2 copies slowly: watch sees the copy under way.
    with deployment_mod.deployment_for_migrations(
            str(tmp_path_factory.mktemp('state')), guest_image,
            4 << 20) as deploy:
        yield deploy


def _osc(d, *args, check=True):
    return d.openstack_cli('--os-compute-endpoint-override',
                           d.compute.base, 'volume', 'migration', *args,
                           check=check)


def _osc_json(d, *args):
    return json.loads(_osc(d, *args, '-f', 'json').stdout)


def test_start_complete_then_start_cancel(deployment):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'osc-plugin')
    server, volume, attachment = g.server, g.volume, g.attachment
    destination = d.create_volume(size=1)
    destination_path = d.volume_path(destination)
    new_attachment = d.new_attachment(destination['id'], server)

    record = _osc_json(d, 'start', attachment)
    assert (record['status'], record['mode']) == ('started', 'live')
    assert (record['server_id'], record['volume_id']) == (server,
                                                          volume['id'])
    listed = _osc_json(d, 'list', '--server', server)
    assert [(m['attachment_id'], m['status']) for m in listed] == [
        (attachment, 'started')]
    # Cinder's copy, as plainly as possible: the source no longer
    # changes once start returned.
    volumes.copy_data(g.path, destination_path)
    d.wait_acks(server, 50)

    record = _osc_json(d, 'complete', attachment,
                       '--new-attachment', new_attachment)
    assert record['new_attachment_id'] == new_attachment
    d.wait_migration(attachment, 'completed')
    assert _osc_json(d, 'show', attachment)['status'] == 'completed'
    assert d.disk_source(server) == destination_path
    d.wait_acks(server, 50)  # into the destination

    # A second migration of the same disk, cancelled this time.
    record = _osc_json(d, 'start', new_attachment)
    assert record['status'] == 'started'
    d.wait_acks(server, 50)
    assert _osc(d, 'cancel', new_attachment).stdout == ''
    d.wait_migration(new_attachment, 'cancelled')
    assert d.disk_source(server) == destination_path
    listed = _osc_json(d, 'list', '--status', 'cancelled')
    assert [m['attachment_id'] for m in listed] == [new_attachment]

    # complete after cancel: the API's refusal, non-zero exit.
    result = _osc(d, 'complete', new_attachment, '--new-attachment',
                  attachment, check=False)
    assert result.returncode != 0
    assert 'HTTP 409' in result.stderr, result.stderr

    d.wait_acks(server, 50)  # into the destination again
    g.detach_and_verify(destination_path)


def _bar(output):
    return [(int(m.group(1)), m.group(2)) for m in
            map(BAR.match, output.splitlines()) if m]


def test_watch_follows_cinder_migrate(deployment):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'osc-watch', backend='backend2')
    # Data past the guest's 4 MiB of records makes the copy (8 MiB/s) last
    # about 10 s on the reference machine, longer than openstackclient
    # takes to start on a busy one; as long again per unit of the timeout
    # scale on a slower one.
    volumes.fill(g.path, int(deployment_mod.scaled(80)), start=8)
    d.cinder_cli('migrate', g.volume['id'], d.volume_host('backend1'))
    result = _osc(d, 'watch', g.volume['id'], '--interval', '0.1',
                  '--timeout', '120')
    bar = _bar(result.stdout)
    assert bar[-1] == (100, 'success'), result.stdout
    assert any(0 < percent < 100 for percent, _ in bar), result.stdout

    moved = d.volume.get('/volumes/%s' % g.volume['id']).json()['volume']
    assert moved['os-vol-host-attr:host'].startswith(
        d.volume_host('backend1'))
    new_path = d.volume_path(moved)
    d.wait_disk_source(g.server, new_path)
    d.wait_acks(g.server, 50)
    g.detach_and_verify(new_path)


def test_watch_exits_non_zero_on_error(deployment):
    d = deployment
    volume = d.create_volume(size=1)
    # More than the backend holds.
    volumes.fill(d.volume_path(volume), 4, start=0)
    d.cinder_cli('migrate', volume['id'], d.volume_host(FULL_BACKEND))
    result = _osc(d, 'watch', volume['id'], '--interval', '0.1',
                  '--timeout', '120', check=False)
    assert result.returncode != 0
    assert _bar(result.stdout)[-1][1] == 'error', result.stdout
    assert 'failed' in result.stderr, result.stderr


def test_watch_needs_a_migration(deployment):
    volume = deployment.create_volume(size=1)
    result = _osc(deployment, 'watch', volume['id'], check=False)
    assert result.returncode != 0
    assert 'not being migrated' in result.stderr, result.stderr
