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
from volmig_common import wsgi

application = wsgi.application_from_environ(
    nova_conf.new_conf(), 'nova_volmig', services.init, app.load_app)
