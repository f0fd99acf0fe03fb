"""The unchanged openstackclient (openstacksdk) against the volume API."""

import json

from tests.functional import deployment as deployment_mod


def test_volume_lifecycle(deployment):
    def openstack(*args):
        return deployment.openstack_cli(*args).stdout

    created = json.loads(openstack('volume', 'create', '--size', '1',
                                   'osc-vol', '-f', 'json'))
    volume_id = created['id']
    assert created['size'] == 1
    deployment.wait_volume(volume_id, 'available')

    listed = json.loads(openstack('volume', 'list', '-f', 'json'))
    assert {'osc-vol': 'available'} == {
        v['Name']: v['Status'] for v in listed if v['ID'] == volume_id}

    shown = json.loads(openstack('volume', 'show', volume_id, '-f', 'json'))
    assert shown['name'] == 'osc-vol'
    assert shown['status'] == 'available'

    openstack('volume', 'delete', volume_id)
    deployment_mod.wait_for(
        lambda: deployment.volume.get('/volumes/%s' % volume_id)
        .status_code == 404, 60, 'the volume to be deleted')
