"""The request and response samples of doc/api-samples/ are what the
running services take and give.

Each request sample is sent (its ids replaced by live ones); each response
must have the sample's keys, each value of the sample's JSON type (ids and
times differ). ``VOLMIG_WRITE_SAMPLES=1`` rewrites the response samples
from the live answers instead.
"""

import json
import os

import pytest

from tests.functional import deployment as deployment_mod
from tests.functional import volumes

SAMPLES = os.path.join(deployment_mod.REPO, 'doc', 'api-samples')
WRITE = os.environ.get('VOLMIG_WRITE_SAMPLES') == '1'


def _load(name):
    with open(os.path.join(SAMPLES, name)) as f:
        return json.load(f)


def _request(name, **values):
    """The sample request ``name`` with the values of the given keys
    replaced, wherever they are."""
    found = set()

    def fill(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in values:
                    node[key] = values[key]
                    found.add(key)
                else:
                    fill(value)
    body = _load(name)
    fill(body)
    assert found == set(values), (name, found)
    return body


def _shape(value):
    """What must match: the keys of objects, the JSON type of the rest
    (booleans are not numbers); a list by its first element."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, (int, float)):
        return 'number'
    return type(value).__name__


def _check(name, response, status):
    assert response.status_code == status, response.text
    body = response.json()
    if WRITE:
        with open(os.path.join(SAMPLES, name), 'w') as f:
            json.dump(body, f, indent=4, sort_keys=True)
            f.write('\n')
        return body
    assert _shape(body) == _shape(_load(name)), name
    return body


@pytest.fixture
def guest(deployment):
    """A writing guest with one attached volume and a spare destination
    attachment, as Cinder prepares them before start."""
    d = deployment
    g = deployment_mod.WritingGuest(d, 'samples')
    destination = d.create_volume(size=1)
    return dict(server=g.server, attachment=g.attachment, source=g.path,
                destination=d.volume_path(destination),
                new_attachment=d.new_attachment(destination['id'],
                                                g.server))


def test_volume_migrations(deployment, guest):
    d, g = deployment, guest
    version = deployment_mod.MIGRATION_VERSION
    base = 'os-volume-migrations/'
    body = _request(base + 'volume-migration-start-req.json',
                    attachment_id=g['attachment'])
    _check(base + 'volume-migration-start-resp.json',
           d.compute.post('/os-volume-migrations', body, version=version),
           200)
    _check(base + 'volume-migrations-list-resp.json',
           d.compute.get('/os-volume-migrations?server_id=%s' % g['server'],
                         version=version), 200)
    _check(base + 'volume-migration-show-resp.json',
           d.compute.get('/os-volume-migrations/%s' % g['attachment'],
                         version=version), 200)

    volumes.copy_data(g['source'], g['destination'])
    body = _request(base + 'volume-migration-complete-req.json',
                    new_attachment_id=g['new_attachment'])
    _check(base + 'volume-migration-complete-resp.json',
           d.migration_action(g['attachment'], body), 200)
    d.wait_migration(g['attachment'], 'completed')

    # cancel answers 202 with no body.
    assert d.start_migration(g['new_attachment']).status_code == 200
    response = d.migration_action(
        g['new_attachment'],
        _load(base + 'volume-migration-cancel-req.json'))
    assert response.status_code == 202, response.text
    assert response.content == b''
    d.wait_migration(g['new_attachment'], 'cancelled')


def test_migrate_volume_and_show(deployment):
    d = deployment
    volume = d.create_volume(size=1, volume_type='backend1')
    body = _request('os-migrate_volume/migrate-volume-req.json',
                    host=d.volume_host('backend2'))
    response = d.volume.post('/volumes/%s/action' % volume['id'], body,
                             version='3.72')
    assert response.status_code == 202, response.text

    def migrated():
        shown = d.volume.get('/volumes/%s' % volume['id'], version='3.72')
        status = shown.json()['volume']['migration_status']
        assert status != 'error', shown.text
        return shown if status == 'success' else None
    shown = deployment_mod.wait_for(migrated, 60, 'the migration to end')
    volume = _check('volumes/volume-show-resp-3.72.json', shown, 200)
    assert volume['volume']['migration_progress'] == 100
