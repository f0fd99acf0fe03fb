"""``cinder migrate`` drives the whole migration of a volume a guest uses.

Unchanged python-cinderclient and openstackclient against the embedded
default, the real compute service and libvirt underneath, the test guest
writing acknowledged records throughout.
"""

import os
import time

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import guest_records
from tests.functional import volumes

FULL_BACKEND = deployment_mod.FULL_BACKEND


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    # backend2 copies slowly: progress and kills can be seen mid-copy.
    with deployment_mod.deployment_for_migrations(
            str(tmp_path_factory.mktemp('state')), guest_image,
            8 << 20) as deploy:
        yield deploy


def test_cinder_migrate_in_use_volume(deployment, report):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'migrate-cli', 'backend1')
    with deployment_mod.AckMonitor(d.console_file(g.server)) as monitor:
        t0 = time.monotonic()
        d.cinder_cli('migrate', g.volume['id'], d.volume_host('backend2'))
        volumes.wait_migrated(d, g.volume['id'])
        t1 = time.monotonic()
        d.wait_acks(g.server, 100)  # still writing, now to backend2
    new_path = volumes.assert_moved(d, g, 'backend2')
    acks = g.detach_and_verify(new_path)
    report('cinder migrate of an in-use volume: %.1fs, %d acknowledged '
           'writes checked, longest gap between ACKs %.3fs'
           % (t1 - t0, acks, monitor.longest_gap(t0, t1)))


def test_openstack_volume_migrate(deployment):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'migrate-osc', backend='backend2')
    d.openstack_cli('volume', 'migrate', '--host', d.volume_host('backend1'),
                    g.volume['id'])
    volumes.wait_migrated(d, g.volume['id'])
    d.wait_acks(g.server, 100)
    new_path = volumes.assert_moved(d, g, 'backend1')
    g.detach_and_verify(new_path)


def test_offline_migration_then_boot(deployment):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'migrate-offline', 'backend1')
    response = d.compute.post('/servers/%s/action' % g.server,
                              {'os-stop': None})
    assert response.status_code == 202
    d.wait_server(g.server, 'SHUTOFF')
    first_boot = guest_records.last_boot(d.console(g.server))
    d.cinder_cli('migrate', g.volume['id'], d.volume_host('backend2'))
    volume = volumes.wait_migrated(d, g.volume['id'])
    assert volume['migration_status'] == 'success', volume
    new_path = d.volume_path(volume)
    assert d.disk_source(g.server, inactive=True) == new_path
    assert guest_records.verify_volume(new_path, first_boot) == []
    response = d.compute.post('/servers/%s/action' % g.server,
                              {'os-start': None})
    assert response.status_code == 202
    d.wait_server(g.server, 'ACTIVE')
    assert d.disk_source(g.server) == new_path
    d.wait_acks(g.server, 100)
    g.detach_and_verify(new_path)


def test_copy_failure_cancels(deployment):
    d = deployment
    g = deployment_mod.WritingGuest(d, 'migrate-enospc', 'backend1')
    d.wait_acks(g.server, 600)  # more data than the full backend holds
    d.cinder_cli('migrate', g.volume['id'], d.volume_host(FULL_BACKEND))
    volume = volumes.wait_migrated(d, g.volume['id'])
    assert volume['migration_status'] == 'error', volume
    assert volume['os-vol-host-attr:host'].startswith(
        d.volume_host('backend1'))
    assert volume['status'] == 'in-use'
    d.wait_disk_source(g.server, g.path)  # Nova cancelled
    assert os.listdir(d.backend_dir(FULL_BACKEND)) == []
    d.wait_acks(g.server, 100)  # usable, writing the source

    d.cinder_cli('migrate', g.volume['id'], d.volume_host('backend2'))
    volumes.wait_migrated(d, g.volume['id'])
    new_path = volumes.assert_moved(d, g, 'backend2')
    g.detach_and_verify(new_path)


def test_refusals(deployment):
    d = deployment

    def refused(volume_id, host):
        response = d.volume.post('/volumes/%s/action' % volume_id, {
            'os-migrate_volume': {'host': host}})
        assert response.status_code == 400, response.text
        return response.json()['error']['message']

    volume = d.create_volume(size=1, volume_type='backend1', multiattach=True)
    assert 'already' in refused(volume['id'], d.volume_host('backend1'))
    assert refused(volume['id'], 'nowhere@backend9')
    for _ in range(2):  # two servers use it
        response = d.volume.post('/attachments', {'attachment': {
            'volume_uuid': volume['id'],
            'instance_uuid': deployment_mod.uuid4(),
            'connector': {'host': 'elsewhere'}}}, version='3.44')
        assert response.status_code == 200, response.text
        response = d.volume.post(
            '/attachments/%s/action' % response.json()['attachment']['id'],
            {'os-complete': None}, version='3.44')
        assert response.status_code in (200, 204), response.text
    d.wait_volume(volume['id'], 'in-use')
    message = refused(volume['id'], d.volume_host('backend2'))
    assert 'attach' in message, message
    # The CLI shows the same refusal (cinderclient prints it and exits 0).
    result = d.cinder_cli('migrate', volume['id'], d.volume_host('backend2'),
                          check=False)
    assert 'HTTP 400' in result.stdout + result.stderr
    assert message in result.stdout + result.stderr


def test_detached_volume_byte_for_byte_and_progress(deployment):
    d = deployment
    volume = d.create_volume(size=1, volume_type='backend2')
    path = d.volume_path(volume)
    volumes.fill(path, 48)
    digest, layout = volumes.digest(path), volumes.data_ranges(path)
    d.cinder_cli('migrate', volume['id'], d.volume_host('backend1'))
    seen = set()

    def done():
        current = volumes.volume_at(d, volume['id'])
        seen.add(current['migration_progress'])
        return current['migration_status'] in ('success', 'error')
    deployment_mod.wait_for(done, 120, 'the migration to end', interval=0.05)
    moved = volumes.volume_at(d, volume['id'])
    assert moved['migration_status'] == 'success', moved
    new_path = d.volume_path(moved)
    assert not os.path.exists(path)
    assert volumes.digest(new_path) == digest
    assert volumes.data_ranges(new_path) == layout  # sparse stays sparse
    # Bandwidth-limited (backend2): progress seen between the ends.
    assert any(0 < p < 100 for p in seen if p is not None), seen


def test_nova_refusal_leaves_the_volume_unchanged(no_live_deployment):
    d = no_live_deployment
    g = deployment_mod.WritingGuest(d, 'migrate-refused', 'backend1')
    d.cinder_cli('migrate', g.volume['id'], d.volume_host('backend2'))
    volume = volumes.wait_migrated(d, g.volume['id'])
    assert volume['migration_status'] == 'error', volume
    assert volume['status'] == 'in-use'
    assert volume['os-vol-host-attr:host'] == g.volume['os-vol-host-attr:host']
    assert d.volume_path(volume) == g.path
    assert d.disk_source(g.server) == g.path
    assert os.listdir(d.backend_dir('backend2')) == []
    d.wait_acks(g.server, 100)  # still written
    g.detach_and_verify(g.path)
