"""The volume manager and scheduler, without HTTP."""

import os

from oslo_utils import uuidutils
import pytest

from cinder_volmig import exception
from cinder_volmig import services
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import api as volume_api


def _volume_row(context, host, status='creating', size=1):
    return db_api.volume_create(context, {
        'id': uuidutils.generate_uuid(), 'size': size, 'status': status,
        'host': host, 'multiattach': False, 'bootable': False})


def _manager(volume_service, backend):
    [manager] = [m for m in volume_service.managers
                 if m.host.endswith('@' + backend)]
    return manager


def test_one_service_per_backend_heartbeats(volume_service, admin_context):
    rows = db_api.service_get_all(admin_context, binary='cinder-volume')
    assert sorted(r.host for r in rows) == ['node1@fast', 'node1@slow']
    before = {r.host: r.report_count for r in rows}
    _manager(volume_service, 'fast').report_state()
    after = {r.host: r.report_count
             for r in db_api.service_get_all(admin_context)}
    assert after['node1@fast'] == before['node1@fast'] + 1


def test_create_and_delete(volume_service, admin_context):
    manager = _manager(volume_service, 'fast')
    volume = _volume_row(admin_context, manager.pool_host)
    manager.create_volume(admin_context, volume.id)
    volume = db_api.volume_get(admin_context, volume.id)
    assert volume.status == 'available'
    path = manager.driver.local_path(volume)
    assert os.path.exists(path)
    assert db_api.volume_compare_and_swap(
        admin_context, volume.id, {'status': 'available'},
        {'status': 'deleting'})
    manager.delete_volume(admin_context, volume.id)
    assert not os.path.exists(path)
    with pytest.raises(exception.VolumeNotFound):
        db_api.volume_get(admin_context, volume.id)


def test_failed_create_ends_in_error(volume_service, admin_context,
                                     monkeypatch):
    manager = _manager(volume_service, 'fast')
    volume = _volume_row(admin_context, manager.pool_host)

    def broken(volume):
        raise OSError('disk on fire')

    monkeypatch.setattr(manager.driver, 'create_volume', broken)
    manager.create_volume(admin_context, volume.id)
    assert db_api.volume_get(admin_context, volume.id).status == 'error'


def test_restart_finishes_interrupted_work(conf, admin_context):
    creating = _volume_row(admin_context, 'node1@fast#fast')
    deleting = _volume_row(admin_context, 'node1@fast#fast',
                           status='deleting')
    elsewhere = _volume_row(admin_context, 'node2@fast#fast')
    service = services.worker_service(conf)
    service.start()
    try:
        assert db_api.volume_get(admin_context,
                                 creating.id).status == 'available'
        with pytest.raises(exception.VolumeNotFound):
            db_api.volume_get(admin_context, deleting.id)
        assert db_api.volume_get(admin_context,
                                 elsewhere.id).status == 'creating'
    finally:
        service.stop()


def test_scheduler_prefers_most_free_space(volume_service, conf,
                                           admin_context, monkeypatch):
    for manager, free in zip(volume_service.managers, (5, 50), strict=True):
        # Patched rather than written, so a periodic heartbeat agrees.
        stats = {'volume_backend_name': manager.backend_name,
                 'free_capacity_gb': free, 'total_capacity_gb': 100}
        monkeypatch.setattr(manager.driver, 'get_volume_stats',
                            lambda stats=stats: stats)
        manager.report_state()
    api = volume_api.API(conf)
    volume = api.create(admin_context, 10)
    assert volume.host == volume_service.managers[1].pool_host
    with pytest.raises(exception.NoValidBackend):
        api.create(admin_context, 51)


def test_no_backend_up_is_400(conf, admin_context):
    with pytest.raises(exception.NoValidBackend) as error:
        volume_api.API(conf).create(admin_context, 1)
    assert error.value.code == 400


def test_connection_over_rpc(volume_service, conf, admin_context):
    manager = _manager(volume_service, 'slow')
    volume = _volume_row(admin_context, manager.pool_host,
                         status='available')
    info = volume_api.API(conf).rpcapi.initialize_connection(
        admin_context, volume, {'host': 'h'})
    assert info['data']['device_path'] == manager.driver.local_path(volume)
