"""The noauth pipeline of etc/cinder_volmig/api-paste.ini."""

import webtest

from cinder_volmig.api import app as api_app


def test_noauth_caller_without_token_is_admin(conf, volume_service):
    api = webtest.TestApp(api_app.load_app(conf))
    # Admin only.
    services = api.get('/v3/admin/os-services').json['services']
    assert sorted(s['host'] for s in services) == ['node1@fast',
                                                  'node1@slow']
