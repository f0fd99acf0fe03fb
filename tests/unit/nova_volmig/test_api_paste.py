"""The noauth pipeline of etc/nova_volmig/api-paste.ini."""

import webtest

from nova_volmig.api import app as api_app


def test_noauth_caller_without_token_is_admin(conf):
    api = webtest.TestApp(api_app.load_app(conf))
    # Admin or service role only.
    response = api.get('/v2.1/os-volume-migrations',
                       headers={'OpenStack-API-Version': 'compute 2.105'})
    assert response.json == {'volume_migrations': []}
