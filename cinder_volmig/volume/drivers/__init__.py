"""Volume drivers by the name ``volume_driver`` gives them."""

from oslo_utils import importutils

from cinder_volmig import exception

_DRIVERS = {
    'file': 'cinder_volmig.volume.drivers.file.FileDriver',
}


def load(name, config, backend_name):
    """The driver called ``name``, or a ``module.Class`` path."""
    path = _DRIVERS.get(name, name)
    try:
        driver_class = importutils.import_class(path)
    except (ImportError, ValueError):
        raise exception.DriverNotFound(name=name)
    return driver_class(config, backend_name)
