"""The APIs' paste files (etc/*/api-paste.ini) and finding them."""

import configparser
import importlib
import os
import subprocess
import sys

import pytest
import webtest

from cinder_volmig import conf as cinder_conf
from cinder_volmig.api import app as cinder_app
from nova_volmig import conf as nova_conf
from nova_volmig.api import app as nova_app
from volmig_common import auth
from volmig_common import config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
# project: (new_conf, app module, a path behind authentication)
SERVICES = {
    'nova_volmig': (nova_conf.new_conf, nova_app, '/v2.1/servers'),
    'cinder_volmig': (cinder_conf.new_conf, cinder_app, '/v3/p1/volumes'),
}
# project: the version document of its API version
VERSION_PATHS = {'nova_volmig': '/v2.1', 'cinder_volmig': '/v3'}
STRATEGIES = list(auth.auth_opts[0].type.choices)
KEYSTONE_URI = 'http://127.0.0.1:9/identity'


def _paste_file(project):
    return os.path.join(REPO, 'etc', project, 'api-paste.ini')


def _resolve(spec):
    """The object ``module:attr.attr`` names; fails if there is none."""
    module, _, attrs = spec.partition(':')
    obj = importlib.import_module(module)
    for attr in attrs.split('.'):
        obj = getattr(obj, attr)
    return obj


@pytest.mark.parametrize('project', SERVICES)
def test_paste_file_names_existing_factories(project):
    parser = configparser.ConfigParser()
    assert parser.read(_paste_file(project))
    sections = set(parser.sections())
    composite = parser['composite:' + SERVICES[project][1].PASTE_APP]
    assert callable(_resolve(composite['use'].removeprefix('call:')))
    assert set(STRATEGIES) <= set(composite) - {'use'}
    for strategy in STRATEGIES:
        *filters, app = composite[strategy].split()
        assert 'app:' + app in sections, (strategy, app)
        for name in filters:
            assert 'filter:' + name in sections, (strategy, name)
    for section in sections:
        for key in ('paste.app_factory', 'paste.filter_factory'):
            if key in parser[section]:
                assert callable(_resolve(parser[section][key])), section


def _conf(project, tmp_path, text):
    path = tmp_path / (project + '.conf')
    path.write_text(text)
    conf = SERVICES[project][0]()
    conf(['--config-file', str(path)], project=project)
    return conf


@pytest.mark.parametrize('project', SERVICES)
def test_keystone_pipeline_refuses_no_token(project, tmp_path):
    """auth_token runs, with its options from the service's own config."""
    conf = _conf(project, tmp_path, (
        '[DEFAULT]\nauth_strategy = keystone\ntransport_url = fake://\n'
        '[keystone_authtoken]\nwww_authenticate_uri = %s\n' % KEYSTONE_URI))
    api = webtest.TestApp(SERVICES[project][1].load_app(conf))
    response = api.get(SERVICES[project][2], expect_errors=True)
    assert response.status_int == 401
    assert response.json['error']['code'] == 401
    assert response.json['error']['title'] == 'Unauthorized'
    assert KEYSTONE_URI in response.headers['WWW-Authenticate']


def _keystone_api(project, tmp_path):
    conf = _conf(project, tmp_path, (
        '[DEFAULT]\nauth_strategy = keystone\ntransport_url = fake://\n'
        '[keystone_authtoken]\nwww_authenticate_uri = %s\n' % KEYSTONE_URI))
    return webtest.TestApp(SERVICES[project][1].load_app(conf))


@pytest.mark.parametrize('project', SERVICES)
def test_version_documents_need_no_token(project, tmp_path):
    api = _keystone_api(project, tmp_path)
    assert api.get('/').json['versions']
    for path in (VERSION_PATHS[project], VERSION_PATHS[project] + '/'):
        assert api.get(path).json['version']['status'] == 'CURRENT'
    # Only GETs of those paths.
    assert api.post_json('/', {}, expect_errors=True).status_int == 401
    assert api.get(VERSION_PATHS[project] + '/x',
                   expect_errors=True).status_int == 401


def _load_nova_with_paste(tmp_path, edit):
    """Loads the compute API (noauth) from its paste file after ``edit``
    (text -> text)."""
    paste = tmp_path / 'edited-api-paste.ini'
    with open(_paste_file('nova_volmig')) as f:
        paste.write_text(edit(f.read()))
    conf = _conf('nova_volmig', tmp_path, (
        '[DEFAULT]\nauth_strategy = noauth\ntransport_url = fake://\n'
        'api_paste_config = %s\n' % paste))
    return nova_app.load_app(conf)


def test_public_pipeline_must_end_in_the_api(tmp_path):
    with pytest.raises(ValueError, match='public pipeline ends in other'):
        _load_nova_with_paste(tmp_path, lambda text: text.replace(
            'public = json_errors compute_api', 'public = json_errors other'))


def test_paste_file_without_the_strategy(tmp_path):
    with pytest.raises(ValueError, match='has no noauth pipeline'):
        _load_nova_with_paste(tmp_path, lambda text: ''.join(
            line for line in text.splitlines(keepends=True)
            if not line.startswith('noauth =')))


def test_paste_config_of_a_checkout(tmp_path):
    conf = _conf('nova_volmig', tmp_path, '')
    assert config.find_paste_config(conf) == _paste_file('nova_volmig')


def test_paste_config_next_to_the_config_file(tmp_path):
    conf = _conf('cinder_volmig', tmp_path, '')
    (tmp_path / 'api-paste.ini').write_text('')
    assert config.find_paste_config(conf) == str(tmp_path / 'api-paste.ini')


def test_paste_config_installed(tmp_path, monkeypatch):
    installed = tmp_path / 'prefix' / 'etc'
    os.makedirs(installed / 'nova_volmig')
    (installed / 'nova_volmig' / 'api-paste.ini').write_text('')
    monkeypatch.setattr(config, '_INSTALLED_ETC', str(installed))
    conf = _conf('nova_volmig', tmp_path, '')
    assert config.find_paste_config(conf) == str(
        installed / 'nova_volmig' / 'api-paste.ini')


def test_paste_config_path(tmp_path):
    path = tmp_path / 'elsewhere' / 'nova-paste.ini'
    os.makedirs(path.parent)
    path.write_text('')
    conf = _conf('nova_volmig', tmp_path,
                 '[DEFAULT]\napi_paste_config = %s\n' % path)
    assert config.find_paste_config(conf) == str(path)


def test_paste_config_missing(tmp_path):
    conf = _conf('nova_volmig', tmp_path,
                 '[DEFAULT]\napi_paste_config = missing-paste.ini\n')
    with pytest.raises(config.PasteConfigNotFound,
                       match='missing-paste.ini not found'):
        nova_app.load_app(conf)


@pytest.mark.parametrize('project', SERVICES)
def test_wsgi_application(project, tmp_path):
    """The WSGI module builds the API from the files the environment
    names (a process of its own: it sets up logging as a service does)."""
    conf = tmp_path / 'service.conf'
    conf.write_text('[DEFAULT]\nauth_strategy = keystone\n'
                    'transport_url = fake://\nlog_file = %s\n'
                    '[keystone_authtoken]\nwww_authenticate_uri = %s\n'
                    % (tmp_path / 'api.log', KEYSTONE_URI))
    script = ('import webob, %s.wsgi as w; '
              'print(webob.Request.blank(%r).get_response(w.application)'
              '.status_int)' % (project, SERVICES[project][2]))
    env = dict(os.environ)
    env['OS_%s_CONFIG_FILES' % project.upper()] = str(conf)
    result = subprocess.run([sys.executable, '-c', script], env=env,
                            capture_output=True, text=True, check=True)
    assert result.stdout.split() == ['401']
