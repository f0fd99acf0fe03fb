"""The compute API for a WSGI server (uWSGI, mod_wsgi, gunicorn).

``application`` is what ``nova-volmig-api`` serves, built from the same
config and paste files: the config files are those that
``OS_NOVA_VOLMIG_CONFIG_FILES`` names (';'-separated), else oslo.config's
default ones (``/etc/nova_volmig/nova_volmig.conf``)::

    export OS_NOVA_VOLMIG_CONFIG_FILES=/etc/volmig/nova.conf
    uwsgi --http-socket :8774 --module nova_volmig.wsgi:application
"""

from nova_volmig import conf as nova_conf
from nova_volmig import services
from nova_volmig.api import app
from volmig_common import config


def init_application():
    conf = nova_conf.new_conf()
    config.parse_environ(conf, 'nova_volmig')
    services.init(conf)
    return app.load_app(conf)


application = init_application()
