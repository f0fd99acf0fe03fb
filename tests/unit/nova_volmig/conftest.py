"""A real nova_volmig API and compute manager over SQLite and fake:// RPC.

Only the hypervisor and the volume service are fakes (fakes.py).
"""

import os
import time

import pytest
import webtest

from nova_volmig import conf as nova_conf
from nova_volmig.api import app as api_app
from nova_volmig.compute import api as compute_api
from nova_volmig.compute import manager
from nova_volmig.compute import rpcapi
from nova_volmig.db import api as db_api
from nova_volmig.db import migration
from tests.unit.nova_volmig import fakes
from volmig_common import context
from volmig_common import db
from volmig_common import rpc
from volmig_common import service

IMAGE = 'volmig-guest'


@pytest.fixture
def conf(tmp_path, monkeypatch):
    conf = nova_conf.new_conf()
    conf([], project='nova_volmig')
    conf.set_override('transport_url', 'fake://')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('host', 'compute1')
    conf.set_override('connection', 'sqlite:///%s/nova.db' % tmp_path,
                      group='database')
    image = tmp_path / 'images' / IMAGE
    os.makedirs(image)
    (image / 'vmlinuz').write_bytes(b'kernel')
    (image / 'initrd.img').write_bytes(b'initrd')
    db.sync(conf, migration.MIGRATIONS_DIR)
    # A fresh engine facade per test: one can be configured only once.
    context_manager = db.new_context_manager()
    db.configure(context_manager, conf)
    monkeypatch.setattr(db_api, '_context_manager', context_manager)
    yield conf
    rpc.cleanup()


@pytest.fixture
def admin_context():
    return context.get_admin_context()


@pytest.fixture
def driver():
    return fakes.FakeDriver()


@pytest.fixture
def volumes():
    return fakes.FakeVolumeAPI()


@pytest.fixture
def compute_manager(conf, driver, volumes):
    compute = manager.ComputeManager(conf, driver=driver, volume_api=volumes)
    server = rpc.get_server(conf, rpcapi.TOPIC, conf.host, [compute])
    rpc_service = service.RPCService('compute', server)
    rpc_service.start()
    yield compute
    rpc_service.stop()


def paste_api(monkeypatch, conf, compute):
    """The API as its paste pipeline builds it, around ``compute``."""
    monkeypatch.setattr(api_app.compute_api, 'API', lambda conf: compute)
    return webtest.TestApp(api_app.load_app(conf))


@pytest.fixture
def api(monkeypatch, conf, compute_manager, volumes):
    return paste_api(monkeypatch, conf,
                     compute_api.API(conf, volume_api=volumes))


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, 'timed out'
        time.sleep(0.02)


@pytest.fixture
def server(api):
    """An ACTIVE server, as its API view."""
    image_id = api.get('/v2.1/images').json['images'][0]['id']
    response = api.post_json('/v2.1/servers', {'server': {
        'name': 'vm1', 'imageRef': image_id, 'flavorRef': 'm1.tiny'}})
    server_id = response.json['server']['id']

    def active():
        server = api.get('/v2.1/servers/' + server_id).json['server']
        return server['status'] == 'ACTIVE' and server[
            'OS-EXT-STS:task_state'] is None
    wait_for(active)
    return api.get('/v2.1/servers/' + server_id).json['server']
