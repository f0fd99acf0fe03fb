"""The app factory and the JSON error middleware: errors of one shape,
microversion headers."""

from oslo_config import cfg
import pecan
from pecan import rest
import pytest
import webtest

from volmig_common import config
from volmig_common import exception
from volmig_common import microversion
from volmig_common import wsgi


class _Things(rest.RestController):
    @pecan.expose('json')
    def get_one(self, thing_id):
        if thing_id == 'conflict':
            raise exception.Conflict(reason='busy')
        if thing_id == 'boom':
            raise RuntimeError('secret detail')
        return {'id': thing_id, 'version': str(pecan.request.version)}

    @pecan.expose('json')
    def post(self):
        return {}


class _Root:
    things = _Things()


@pytest.fixture
def app():
    conf = cfg.ConfigOpts()
    config.register_opts(conf, api_port=1)
    conf([])
    versions = microversion.VersionRange('volume', '3.0', '3.71')
    return webtest.TestApp(wsgi.JSONErrorMiddleware(
        wsgi.make_app(conf, _Root(), versions)))


def _error(response, status):
    assert response.status_int == status
    assert response.content_type == 'application/json'
    error = response.json['error']
    assert error['code'] == status
    return error


def test_version_echoed(app):
    response = app.get('/things/a',
                       headers={'OpenStack-API-Version': 'volume 3.44'})
    assert response.json == {'id': 'a', 'version': '3.44'}
    assert response.headers['OpenStack-API-Version'] == 'volume 3.44'
    assert 'OpenStack-API-Version' in response.headers['Vary']


def test_service_exception_keeps_its_code(app):
    error = _error(app.get('/things/conflict', expect_errors=True), 409)
    assert error['message'] == 'Conflict: busy'
    assert error['title'] == 'Conflict'


def test_unexpected_error_hides_details(app):
    response = app.get('/things/boom', expect_errors=True)
    error = _error(response, 500)
    assert 'secret' not in response.text
    assert error['message'] == 'Unexpected API error.'


def test_unknown_path_is_json_404(app):
    _error(app.get('/nothing/here', expect_errors=True), 404)


def test_bad_version_header(app):
    _error(app.get('/things/a', expect_errors=True,
                   headers={'OpenStack-API-Version': 'volume 3.72'}), 406)
    _error(app.get('/things/a', expect_errors=True,
                   headers={'OpenStack-API-Version': 'volume three'}), 400)


def test_non_object_json_body(app):
    error = _error(app.post('/things', '[1]', expect_errors=True,
                            content_type='application/json'), 400)
    assert 'JSON object' in error['message']
