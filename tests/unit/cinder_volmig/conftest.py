"""A real cinder_volmig in the test process: SQLite, in-process RPC."""

import time

import pytest
import webtest

from cinder_volmig import conf as cinder_conf
from cinder_volmig import services
from cinder_volmig.api import app as api_app
from cinder_volmig.db import api as db_api
from cinder_volmig.db import migration
from cinder_volmig.volume import migration as volume_migration
from tests.unit.cinder_volmig import fakes
from tests.unit.cinder_volmig import helpers
from volmig_common import context
from volmig_common import db
from volmig_common import rpc
from volmig_common import wsgi


@pytest.fixture
def conf(tmp_path, monkeypatch):
    conf = cinder_conf.new_conf()
    conf([], project='cinder_volmig')
    conf.set_override('transport_url', 'fake://')
    conf.set_override('state_path', str(tmp_path))
    conf.set_override('auth_strategy', 'noauth')
    conf.set_override('host', 'node1')
    conf.set_override('enabled_backends', ['fast', 'slow'])
    conf.set_override('connection', 'sqlite:///%s/cinder.db' % tmp_path,
                      group='database')
    db.sync(conf, migration.MIGRATIONS_DIR)
    # A fresh engine facade per test: the module's own can be configured
    # only once per process.
    context_manager = db.new_context_manager()
    db.configure(context_manager, conf)
    monkeypatch.setattr(db_api, 'CONTEXT', context_manager)
    yield conf
    rpc.cleanup()


@pytest.fixture
def admin_context():
    return context.get_admin_context()


@pytest.fixture
def volume_service(conf, admin_context):
    service = services.worker_service(conf)
    service.start()
    # start() reports once, the periodic task at once again: after that,
    # the next heartbeat is report_interval away and tests can rely on
    # what the services table says.
    deadline = time.monotonic() + 10
    while any(s.report_count < 2
              for s in db_api.service_get_all(admin_context)):
        assert time.monotonic() < deadline, 'no periodic heartbeat'
        time.sleep(0.01)
    yield service
    service.stop()


@pytest.fixture
def api(conf, volume_service):
    return webtest.TestApp(api_app.load_app(conf),
                           extra_environ={'HTTP_X_AUTH_TOKEN': helpers.TOKEN})


@pytest.fixture
def fake_nova(conf):
    """FakeNova over real HTTP, where [nova] points."""
    nova = fakes.FakeNova()
    server = wsgi.Server('fake-nova', nova, '127.0.0.1', 0)
    server.start()
    conf.set_override('auth_type', 'none', group='nova')
    conf.set_override('endpoint_override',
                      'http://127.0.0.1:%d/v2.1' % server.port, group='nova')
    yield nova
    server.stop()


@pytest.fixture
def fake_copy(monkeypatch):
    copy = fakes.FakeCopy()
    monkeypatch.setattr(volume_migration.volume_copy, 'copy_volume', copy)
    return copy
