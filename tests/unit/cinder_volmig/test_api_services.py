"""``os-services``: one cinder-volume per host@backend, up from heartbeats."""

import datetime

from oslo_utils import timeutils
import sqlalchemy as sa

from cinder_volmig.db import api as db_api
from cinder_volmig.db import models
from tests.unit.cinder_volmig import helpers
from tests.unit.cinder_volmig.helpers import url


def test_lists_each_backend_as_a_service(api):
    services = api.get(url('/os-services'),
                       headers=helpers.headers('3.49')).json['services']
    assert sorted(s['host'] for s in services) == ['node1@fast',
                                                   'node1@slow']
    for service in services:
        assert service['binary'] == 'cinder-volume'
        assert service['zone'] == 'nova'
        assert service['status'] == 'enabled'
        assert service['state'] == 'up'
        assert service['backend_state'] == 'up'
        assert service['updated_at']


def test_filters_by_host_and_binary(api):
    services = api.get(url('/os-services?host=node1@slow')).json['services']
    assert [s['host'] for s in services] == ['node1@slow']
    assert api.get(url('/os-services?binary=cinder-scheduler')).json == {
        'services': []}


def test_silent_service_is_down_and_not_scheduled(api, conf, admin_context):
    long_ago = timeutils.utcnow() - datetime.timedelta(
        seconds=conf.service_down_time + 1)
    with db_api.CONTEXT.writer.using(admin_context) as session:
        session.execute(sa.update(models.Service).where(
            models.Service.host == 'node1@slow').values(updated_at=long_ago))
    services = {s['host']: s for s in
                api.get(url('/os-services')).json['services']}
    assert services['node1@slow']['state'] == 'down'
    assert services['node1@fast']['state'] == 'up'
    response = api.post_json(url('/volumes'), {'volume': {
        'size': 1, 'volume_type': 'slow'}}, expect_errors=True)
    helpers.assert_error(response, 400, 'No valid backend')
    volume = helpers.create_volume(api)
    assert volume['os-vol-host-attr:host'] == 'node1@fast#fast'


def test_unknown_query_parameter_is_400(api):
    helpers.assert_error(api.get(url('/os-services?zone=x'),
                                 expect_errors=True), 400, 'zone')
