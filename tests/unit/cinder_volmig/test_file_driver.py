"""The file backend driver on a real directory."""

import os
import types

import pytest

from cinder_volmig import conf as cinder_conf
from cinder_volmig.volume import drivers
from cinder_volmig.volume.drivers import file as file_driver

ID = '3c1f6e2a-5b4d-4c3e-9f8a-7b6c5d4e3f2a'
NAME_ID = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b'


@pytest.fixture
def driver(tmp_path):
    conf = cinder_conf.new_conf()
    conf([])
    conf.set_override('state_path', str(tmp_path))
    section = cinder_conf.register_backend_opts(conf, 'b1')
    driver = drivers.load(section.volume_driver, section, 'b1')
    driver.do_setup()
    return driver


def _volume(size=1, name_id=None):
    return types.SimpleNamespace(id=ID, name_id=name_id, size=size)


def test_file_is_the_default_driver(driver, tmp_path):
    assert isinstance(driver, file_driver.FileDriver)
    assert os.path.isdir(tmp_path / 'volumes' / 'b1')


def test_create_is_sparse_and_idempotent(driver):
    volume = _volume(size=3)
    driver.create_volume(volume)
    driver.create_volume(volume)
    stat = os.stat(driver.local_path(volume))
    assert stat.st_size == 3 * 1024 ** 3
    assert stat.st_blocks == 0


def test_data_lives_under_name_id_when_set(driver):
    volume = _volume(name_id=NAME_ID)
    assert driver.local_path(volume).endswith('volume-' + NAME_ID)


def test_delete_removes_the_file_and_tolerates_a_missing_one(driver):
    volume = _volume()
    driver.create_volume(volume)
    driver.delete_volume(volume)
    assert not os.path.exists(driver.local_path(volume))
    driver.delete_volume(volume)


def test_connection_info_is_the_absolute_path(driver):
    volume = _volume()
    info = driver.initialize_connection(volume, {'host': 'h'})
    assert info == {'driver_volume_type': 'file',
                    'data': {'device_path': driver.local_path(volume),
                             'format': 'raw'}}
    assert os.path.isabs(info['data']['device_path'])
    driver.terminate_connection(volume, {'host': 'h'})


def test_stats_report_capacity(driver):
    stats = driver.get_volume_stats()
    assert stats['volume_backend_name'] == 'b1'
    assert 0 <= stats['free_capacity_gb'] <= stats['total_capacity_gb']


def test_unknown_driver_is_an_error(driver):
    with pytest.raises(Exception, match='unknown'):
        drivers.load('nonsense', driver.config, 'b1')
