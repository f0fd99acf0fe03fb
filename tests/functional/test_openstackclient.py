"""The unchanged openstackclient (openstacksdk) against the volume API."""

import json
import os
import subprocess
import sys

from tests.functional import deployment as deployment_mod


def _openstack(deployment, *args):
    # noauth: the token names user and project, as with cinderclient.
    env = dict(os.environ, OS_AUTH_TYPE='admin_token', OS_TOKEN='admin:admin',
               OS_ENDPOINT=deployment.volume.base, OS_VOLUME_API_VERSION='3')
    for key in ('OS_AUTH_URL', 'OS_USERNAME', 'OS_PASSWORD', 'OS_CLOUD'):
        env.pop(key, None)
    cli = os.path.join(os.path.dirname(sys.executable), 'openstack')
    result = subprocess.run([cli, *args], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_volume_lifecycle(deployment):
    created = json.loads(_openstack(deployment, 'volume', 'create',
                                    '--size', '1', 'osc-vol', '-f', 'json'))
    volume_id = created['id']
    assert created['size'] == 1
    deployment.wait_volume(volume_id, 'available')

    listed = json.loads(_openstack(deployment, 'volume', 'list', '-f',
                                   'json'))
    assert {'osc-vol': 'available'} == {
        v['Name']: v['Status'] for v in listed if v['ID'] == volume_id}

    shown = json.loads(_openstack(deployment, 'volume', 'show', volume_id,
                                  '-f', 'json'))
    assert shown['name'] == 'osc-vol'
    assert shown['status'] == 'available'

    _openstack(deployment, 'volume', 'delete', volume_id)
    deployment_mod.wait_for(
        lambda: deployment.volume.get('/volumes/%s' % volume_id)
        .status_code == 404, 60, 'the volume to be deleted')
