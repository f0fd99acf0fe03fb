"""File backend: each volume is a sparse raw file in ``volumes_dir``."""

import os

from oslo_log import log as logging

from cinder_volmig.volume import driver

LOG = logging.getLogger(__name__)


class FileDriver(driver.VolumeDriver):
    """Volumes as sparse raw files, attached by path.

    Hosts that attach a volume must see ``volumes_dir`` at the same path
    (same machine or shared storage).
    """

    def do_setup(self):
        os.makedirs(self.config.volumes_dir, exist_ok=True)

    def local_path(self, volume):
        return os.path.join(os.path.abspath(self.config.volumes_dir),
                            'volume-%s' % driver.data_id(volume))

    def create_volume(self, volume):
        # Truncating allocates nothing: creation is instant at any size.
        with open(self.local_path(volume), 'ab') as volume_file:
            volume_file.truncate(volume.size * driver.GiB)

    def delete_volume(self, volume):
        try:
            os.unlink(self.local_path(volume))
        except FileNotFoundError:
            LOG.info('Volume file of %s was already gone', volume.id)

    def initialize_connection(self, volume, connector):
        return {'driver_volume_type': 'file',
                'data': {'device_path': self.local_path(volume),
                         'format': 'raw'}}

    def terminate_connection(self, volume, connector):
        """A file path grants nothing that needs revoking."""

    def get_volume_stats(self):
        stat = os.statvfs(self.config.volumes_dir)
        return {'volume_backend_name': self.backend_name,
                'driver_version': '1.0',
                'storage_protocol': 'file',
                'total_capacity_gb': stat.f_blocks * stat.f_frsize
                // driver.GiB,
                'free_capacity_gb': stat.f_bavail * stat.f_frsize
                // driver.GiB}
