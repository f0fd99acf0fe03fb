import os
import shutil

import pytest

from tests.functional import deployment as deployment_mod


def _require_root_and_libvirt():
    if os.geteuid() != 0 or not shutil.which('virsh'):
        pytest.fail('functional tests need root and libvirt '
                    '(tools/run-tests.sh installs and starts them)')


@pytest.fixture(autouse=True)
def _guests_die_with_their_test():
    """No guest outlives the test that booted it, failed or not."""
    yield
    deployment_mod.delete_every_guest()


@pytest.fixture(scope='session')
def libvirtd():
    """libvirtd running, for tests run as root."""
    _require_root_and_libvirt()
    deployment_mod.run_tool('start-libvirtd.sh')


@pytest.fixture(scope='session')
def guest_image(libvirtd, tmp_path_factory):
    """The test guest, built once, with libvirtd running."""
    image_dir = str(tmp_path_factory.mktemp('guest-image'))
    deployment_mod.run_tool('build-guest-image.sh', image_dir)
    return image_dir


@pytest.fixture(scope='module')
def deployment(guest_image, tmp_path_factory):
    state_dir = str(tmp_path_factory.mktemp('state'))
    with deployment_mod.Deployment(state_dir, guest_image) as deploy:
        yield deploy


@pytest.fixture(scope='module')
def no_live_deployment(guest_image, tmp_path_factory):
    """A hypervisor without live volume migration."""
    with deployment_mod.Deployment(
            str(tmp_path_factory.mktemp('state')), guest_image,
            nova_conf={'libvirt': {'live_volume_migration': 'False'}}
    ) as deploy:
        yield deploy
