"""Nova's side of the volume-migration contract on real libvirt.

The test plays Cinder: it creates the destination volume and attachment
through the volume API, calls start, copies the source file itself and
calls complete or cancel, while the test guest writes acknowledged records
throughout.
"""

import time

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import guest_records
from tests.functional import volumes


class Scenario(deployment_mod.WritingGuest):
    """A writing guest, and the destination Cinder would prepare."""

    def __init__(self, deployment, name):
        super().__init__(deployment, name)
        self.source = self.path
        destination = deployment.create_volume(size=1)
        self.destination = deployment.volume_path(destination)
        self.new_attachment = deployment.new_attachment(destination['id'],
                                                        self.server)


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    # A slow commit makes "during the commit" a moment a test can catch.
    with deployment_mod.Deployment(
            str(tmp_path_factory.mktemp('state')), guest_image,
            nova_conf={'libvirt': {'volume_migration_commit_bandwidth': '1'}}
    ) as deploy:
        yield deploy


def test_live_start_copy_complete(deployment, report):
    s = Scenario(deployment, 'live-complete')
    with deployment_mod.AckMonitor(deployment.console_file(s.server)) as m:
        t0 = time.monotonic()
        response = deployment.start_migration(s.attachment)
        t1 = time.monotonic()
        assert response.status_code == 200, response.text
        record = response.json()['volume_migration']
        assert (record['status'], record['mode']) == ('started', 'live')
        assert record['server_id'] == s.server
        assert record['volume_id'] == s.volume['id']
        overlay = deployment.disk_source(s.server)
        assert overlay != s.source and deployment.overlays(s.server)
        assert s.task_state() == 'migrating_volume'

        source_digest = volumes.digest(s.source)
        volumes.copy_data(s.source, s.destination)
        deployment.wait_acks(s.server, 200)  # into the overlay
        assert volumes.digest(s.source) == source_digest

        t2 = time.monotonic()
        response = deployment.complete_migration(s.attachment,
                                                 s.new_attachment)
        t3 = time.monotonic()
        assert response.status_code == 200, response.text
        assert response.json()['volume_migration']['new_attachment_id'] \
            == s.new_attachment
        record = deployment.wait_migration(s.attachment, 'completed')
        t4 = time.monotonic()
        deployment.wait_acks(s.server, 100)  # into the destination

    assert record['progress'] == 100 and record['error'] is None
    assert deployment.disk_source(s.server) == s.destination
    assert deployment.disk_source(s.server, inactive=True) == s.destination
    assert deployment.overlays(s.server) == []
    assert s.task_state() is None
    assert volumes.digest(s.source) == source_digest
    listed = deployment.compute.get('/servers/%s/os-volume_attachments'
                                    % s.server, version='2.89').json()
    assert [(a['volumeId'], a['attachment_id'])
            for a in listed['volumeAttachments']] == [
        (s.volume['id'], s.new_attachment)]
    acks = s.detach_and_verify(s.destination)
    report('live complete: %d acknowledged writes checked; longest gap '
           'between ACKs: start %.3fs, complete %.3fs, final pivot %.3fs'
           % (acks, m.longest_gap(t0, t1), m.longest_gap(t2, t3),
              m.longest_gap(t3, t4)))


def test_live_cancel(deployment):
    s = Scenario(deployment, 'live-cancel')
    assert deployment.start_migration(s.attachment).status_code == 200
    deployment.wait_acks(s.server, 200)
    response = deployment.cancel_migration(s.attachment)
    assert response.status_code == 202, response.text
    record = deployment.wait_migration(s.attachment, 'cancelled')
    assert record['error'] is None
    assert deployment.disk_source(s.server) == s.source
    assert deployment.disk_source(s.server, inactive=True) == s.source
    assert deployment.overlays(s.server) == []
    assert s.task_state() is None
    deployment.wait_acks(s.server, 100)  # into the source again

    response = deployment.complete_migration(s.attachment, s.new_attachment)
    assert response.status_code == 409, response.text
    assert 'cancelled' in response.json()['error']['message']
    assert deployment.cancel_migration(s.attachment).status_code == 202

    s.detach_and_verify(s.source)
    for action, status in (('os-stop', 'SHUTOFF'), ('os-start', 'ACTIVE')):
        response = deployment.compute.post('/servers/%s/action' % s.server,
                                           {action: None})
        assert response.status_code == 202, response.text
        deployment.wait_server(s.server, status)


def test_offline_migration_then_boot_from_destination(deployment):
    s = Scenario(deployment, 'offline')
    response = deployment.compute.post('/servers/%s/action' % s.server,
                                       {'os-stop': None})
    assert response.status_code == 202
    deployment.wait_server(s.server, 'SHUTOFF')
    first_boot = guest_records.last_boot(deployment.console(s.server))

    response = deployment.start_migration(s.attachment)
    assert response.status_code == 200, response.text
    assert response.json()['volume_migration']['mode'] == 'offline'
    response = deployment.compute.post('/servers/%s/action' % s.server,
                                       {'os-start': None})
    assert response.status_code == 409, response.text
    volumes.copy_data(s.source, s.destination)
    response = deployment.complete_migration(s.attachment, s.new_attachment)
    assert response.status_code == 200, response.text
    deployment.wait_migration(s.attachment, 'completed')
    assert deployment.disk_source(s.server, inactive=True) == s.destination
    assert s.task_state() is None
    # The guest's records of before the stop are on the destination...
    assert guest_records.verify_volume(s.destination, first_boot) == []

    response = deployment.compute.post('/servers/%s/action' % s.server,
                                       {'os-start': None})
    assert response.status_code == 202
    deployment.wait_server(s.server, 'ACTIVE')
    assert deployment.disk_source(s.server) == s.destination
    # ...and it boots from it and writes to it.
    deployment.wait_acks(s.server, 100)
    s.detach_and_verify(s.destination)


def test_conflicts_during_a_migration(deployment):
    s = Scenario(deployment, 'conflicts')
    other = deployment.create_volume(size=1)
    other_attachment, _ = deployment.attach(s.server, other['id'])
    assert deployment.start_migration(s.attachment).status_code == 200

    def refused(response):
        assert response.status_code == 409, response.text
        message = response.json()['error']['message']
        assert s.attachment in message, message

    server_path = '/servers/%s' % s.server
    for body in ({'os-stop': None}, {'reboot': {'type': 'HARD'}},
                 {'reboot': {'type': 'SOFT'}}):
        refused(deployment.compute.post(server_path + '/action', body))
    refused(deployment.compute.delete(server_path))
    for volume_id in (s.volume['id'], other['id']):
        refused(deployment.compute.delete(
            server_path + '/os-volume_attachments/%s' % volume_id))
    refused(deployment.start_migration(other_attachment))

    assert deployment.cancel_migration(s.attachment).status_code == 202
    deployment.wait_migration(s.attachment, 'cancelled')
    assert s.task_state() is None


def test_bad_requests(deployment):
    unknown = '6d2b3b0e-8a56-4c0a-9d46-7f2f3a1c0b11'

    def error(response, status):
        assert response.status_code == status, response.text
        assert response.json()['error']['code'] == status
        return response.json()['error']['message']

    start = deployment.start_migration
    error(start('not-a-uuid'), 400)
    error(start(unknown), 404)
    error(deployment.compute.post('/os-volume-migrations', {
        'volume_migration': {'attachment_id': unknown, 'colour': 'red'}},
        version='2.105'), 400)
    error(deployment.migration_action(unknown, {'complete': {
        'new_attachment_id': 'nope'}}), 400)
    error(deployment.migration_action(unknown, {'pause': None}), 400)
    error(deployment.cancel_migration(unknown), 404)
    error(deployment.compute.post('/os-volume-migrations', {
        'volume_migration': {'attachment_id': unknown}}, version='2.104'),
        404)
    error(deployment.compute.get('/os-volume-migrations', version='2.104'),
          404)
    version = deployment.compute.get('/', version='2.1').json()['version']
    assert version['version'] == '2.105'


def test_retries_do_nothing_twice(deployment):
    s = Scenario(deployment, 'retries')
    first = deployment.start_migration(s.attachment).json()
    overlay = deployment.disk_source(s.server)
    again = deployment.start_migration(s.attachment)
    assert again.status_code == 200, again.text
    assert again.json() == first
    assert deployment.disk_source(s.server) == overlay
    assert len(deployment.overlays(s.server)) == 1

    volumes.copy_data(s.source, s.destination)
    done = deployment.complete_migration(s.attachment, s.new_attachment)
    assert done.status_code == 200, done.text
    again = deployment.complete_migration(s.attachment, s.new_attachment)
    assert again.status_code == 200, again.text
    assert again.json()['volume_migration']['new_attachment_id'] \
        == s.new_attachment
    record = deployment.wait_migration(s.attachment, 'completed')
    again = deployment.complete_migration(s.attachment, s.new_attachment)
    assert again.json()['volume_migration'] == record
    assert deployment.disk_source(s.server) == s.destination
    s.detach_and_verify(s.destination)


def test_no_live_migration_refuses_a_running_guest(no_live_deployment):
    d = no_live_deployment
    s = Scenario(d, 'no-live')
    response = d.start_migration(s.attachment)
    assert response.status_code == 409, response.text
    assert 'stop it first' in response.json()['error']['message']
    assert d.disk_source(s.server) == s.source
    assert d.disk_source(s.server, inactive=True) == s.source
    assert d.overlays(s.server) == []
    assert s.task_state() is None
    d.wait_acks(s.server, 100)  # still writing to the source
    s.detach_and_verify(s.source)
