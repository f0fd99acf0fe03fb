"""Distributed mode: every service its own process, RPC over RabbitMQ,
databases on MariaDB and PostgreSQL, two volume services on two hosts."""

import os
import time

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import distributed
from tests.functional import volumes

MAX_CONCURRENT = 2
# backend2 copies slowly: a migration from it is seen under way.
SLOW_BACKEND = 'backend2'


def _start(state_dir, image_dir, database):
    d = distributed.DistributedDeployment(
        state_dir, image_dir, database=database,
        # A call lost to a RabbitMQ restart is retried after this, not
        # after a minute.
        nova_conf={'DEFAULT': {'rpc_response_timeout': 20}},
        cinder_conf={'DEFAULT': {'max_concurrent_migrations':
                                 MAX_CONCURRENT},
                     SLOW_BACKEND: {'migration_bandwidth_limit': 4 << 20}})
    try:
        d.start()
    except BaseException:
        d.stop()
        raise
    return d


@pytest.fixture(scope='module')
def mariadb(guest_image, tmp_path_factory):
    d = _start(str(tmp_path_factory.mktemp('state')), guest_image, 'mariadb')
    yield d
    d.stop()


@pytest.fixture(scope='module')
def postgresql(guest_image, tmp_path_factory):
    d = _start(str(tmp_path_factory.mktemp('state')), guest_image,
               'postgresql')
    yield d
    d.stop()


def _migrate(d, volume_id, backend):
    response = d.volume.post('/volumes/%s/action' % volume_id, {
        'os-migrate_volume': {'host': d.volume_host(backend)}})
    assert response.status_code == 202, response.text


def _finish(d, g, path):
    """Checks the guest's records on ``path``; frees the CPU it takes."""
    acks = g.detach_and_verify(path)
    d.wait_volume(g.volume['id'], 'available')
    response = d.compute.delete('/servers/%s' % g.server)
    assert response.status_code == 204, response.text
    return acks


@pytest.mark.parametrize('database', ['mariadb', 'postgresql'])
def test_live_migration_between_volume_hosts(database, request, report):
    d = request.getfixturevalue(database)
    g = deployment_mod.WritingGuest(d, 'distributed-' + database,
                                     'backend1')
    t0 = time.monotonic()
    _migrate(d, g.volume['id'], 'backend2')
    volumes.wait_migrated(d, g.volume['id'])
    elapsed = time.monotonic() - t0
    d.wait_acks(g.server, 100)  # still writing, now to backend2
    new_path = volumes.assert_moved(d, g, 'backend2')
    acks = _finish(d, g, new_path)
    report('distributed live migration on %s: %.1fs, %d acknowledged '
           'writes checked' % (database, elapsed, acks))


def test_rabbitmq_restart_mid_migration(mariadb):
    d = mariadb
    g = deployment_mod.WritingGuest(d, 'distributed-rabbit',
                                    backend=SLOW_BACKEND)
    # Data past the guest's records makes the limited copy last seconds.
    volumes.fill(g.path, 48, start=8)
    _migrate(d, g.volume['id'], 'backend1')
    deployment_mod.wait_for(
        lambda: 0 < (volumes.volume_at(d, g.volume['id'])['migration_progress']
                     or 0) < 100, 60, 'the copy to be under way',
        interval=0.05)
    distributed.restart_rabbitmq(pause=2)
    volume = volumes.wait_migrated(d, g.volume['id'], timeout=120)
    assert volume['migration_status'] == 'success', volume
    d.wait_acks(g.server, 100)
    new_path = volumes.assert_moved(d, g, 'backend1')
    _finish(d, g, new_path)


def test_concurrent_migrations(mariadb):
    d = mariadb
    g = deployment_mod.WritingGuest(d, 'distributed-many', 'backend1')
    digests = {}
    for _ in range(8):
        volume = d.create_volume(size=1, volume_type='backend1')
        path = d.volume_path(volume)
        volumes.fill(path, 4)
        digests[volume['id']] = volumes.digest(path)
    for volume_id in [g.volume['id'], *digests]:
        _migrate(d, volume_id, 'backend2')
    for volume_id, digest in digests.items():
        volume = volumes.wait_migrated(d, volume_id)
        assert volume['migration_status'] == 'success', volume
        assert volume['os-vol-host-attr:host'].startswith(
            d.volume_host('backend2'))
        assert volumes.digest(d.volume_path(volume)) == digest
    volumes.wait_migrated(d, g.volume['id'])
    d.wait_acks(g.server, 100)
    new_path = volumes.assert_moved(d, g, 'backend2')
    _finish(d, g, new_path)


def test_stopped_volume_service_is_down_and_refused(mariadb):
    d = mariadb
    volume = d.create_volume(size=1, volume_type='backend1')
    host = d.volume_host('backend2')
    assert d.service_state(host) == 'up'
    d.stop_service('cinder-volume-backend2')
    try:
        deployment_mod.wait_for(lambda: d.service_state(host) == 'down',
                                30, '%s to be down' % host)
        response = d.volume.post('/volumes/%s/action' % volume['id'], {
            'os-migrate_volume': {'host': host}})
        assert response.status_code == 400, response.text
        assert 'down' in response.json()['error']['message']
        assert volumes.volume_at(d, volume['id'])['migration_status'] is None
    finally:
        d.start_service('cinder-volume-backend2')
    deployment_mod.wait_for(lambda: d.service_state(host) == 'up', 30,
                            '%s to be up again' % host)
    assert os.path.exists(d.volume_path(volume))
