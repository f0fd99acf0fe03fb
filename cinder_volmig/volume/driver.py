"""The interface every volume backend driver implements.

A driver knows how to store volumes on one backend; the volume manager
owns the database and the state machine around it. Drivers identify a
volume's data by its ``name_id`` (its own id unless a migration moved the
data under another id), never by the volume's id.
"""

import abc

GiB = 1024 ** 3


def data_id(volume):
    """The id the volume's data is stored under."""
    return volume.name_id or volume.id


class VolumeDriver(abc.ABC):
    """One backend's storage. ``config`` is its own config section."""

    def __init__(self, config, backend_name):
        self.config = config
        self.backend_name = backend_name

    @abc.abstractmethod
    def do_setup(self):
        """Prepares the backend before the service accepts requests."""

    @abc.abstractmethod
    def create_volume(self, volume):
        """Creates an empty volume of ``volume.size`` GiB.

        Must be idempotent: a service restarted in the middle of a create
        runs it again.
        """

    @abc.abstractmethod
    def delete_volume(self, volume):
        """Deletes the volume's data; deleting a missing volume succeeds."""

    @abc.abstractmethod
    def local_path(self, volume):
        """Path of the volume's data on this host, which the migration
        copy reads or writes."""

    @abc.abstractmethod
    def initialize_connection(self, volume, connector):
        """Connection info with which the host in ``connector`` reaches
        the volume: ``{"driver_volume_type": …, "data": {…}}``."""

    @abc.abstractmethod
    def terminate_connection(self, volume, connector):
        """Revokes what initialize_connection granted to ``connector``."""

    @abc.abstractmethod
    def get_volume_stats(self):
        """Capacity and capabilities, reported with every heartbeat:
        at least ``total_capacity_gb`` and ``free_capacity_gb``."""
