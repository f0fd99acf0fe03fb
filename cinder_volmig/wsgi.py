"""The volume API for a WSGI server (uWSGI, mod_wsgi, gunicorn).

``application`` is what ``cinder-volmig-api`` serves, built from the same
config and paste files: the config files are those that
``OS_CINDER_VOLMIG_CONFIG_FILES`` names (';'-separated), else oslo.config's
default ones (``/etc/cinder_volmig/cinder_volmig.conf``)::

    export OS_CINDER_VOLMIG_CONFIG_FILES=/etc/volmig/cinder.conf
    uwsgi --http-socket :8776 --module cinder_volmig.wsgi:application
"""

from cinder_volmig import conf as cinder_conf
from cinder_volmig import services
from cinder_volmig.api import app
from volmig_common import wsgi

application = wsgi.application_from_environ(
    cinder_conf.new_conf(), 'cinder_volmig', services.init, app.load_app)
