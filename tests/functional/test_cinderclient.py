"""The unchanged python-cinderclient CLI against the running services."""

from tests.functional import deployment as deployment_mod


def _table(output):
    """Rows of a prettytable as lists of cell strings."""
    return [[cell.strip() for cell in line.strip('|').split('|')]
            for line in output.splitlines() if line.startswith('|')]


def _fields(output):
    return {row[0]: row[1] for row in _table(output)[1:]}


def test_volume_lifecycle(deployment):
    cinder = deployment.cinder_cli
    created = _fields(cinder('create', '--name', 'cli-vol', '1').stdout)
    volume_id = created['id']
    assert created['size'] == '1'
    deployment.wait_volume(volume_id, 'available')

    listed = _table(cinder('list').stdout)
    header, rows = listed[0], listed[1:]
    row = next(r for r in rows if r[header.index('ID')] == volume_id)
    assert row[header.index('Status')] == 'available'
    assert row[header.index('Name')] == 'cli-vol'

    shown = _fields(cinder('show', volume_id).stdout)
    assert shown['status'] == 'available'
    backend = shown['os-vol-host-attr:host'].split('#')[0].split('@')[1]
    assert backend in ('backend1', 'backend2')

    cinder('delete', volume_id)
    deployment_mod.wait_for(
        lambda: deployment.volume.get('/volumes/%s' % volume_id)
        .status_code == 404, 60, 'the volume to be deleted')
    assert volume_id not in cinder('list').stdout


def test_service_list(deployment):
    table = _table(deployment.cinder_cli('service-list').stdout)
    header, rows = table[0], table[1:]
    hosts = {r[header.index('Host')]: r for r in rows}
    backends = sorted(h.split('@')[1] for h in hosts)
    assert backends == ['backend1', 'backend2']
    for row in rows:
        assert row[header.index('Binary')] == 'cinder-volume'
        assert row[header.index('State')] == 'up'
        assert row[header.index('Status')] == 'enabled'
