"""The compute API's root: version documents and the /v2.1 resources."""

import pecan

from nova_volmig.api import images as images_api
from nova_volmig.api import microversions
from nova_volmig.api import servers
from nova_volmig.api import volume_migrations
from volmig_common import versions

VERSION_ID = 'v2.1'
UPDATED = '2013-07-23T11:33:21Z'


def _entry():
    return versions.version_entry(microversions.VERSIONS, VERSION_ID,
                                  pecan.request.host_url + '/v2.1/',
                                  UPDATED)


# Plain object controllers: an unknown child is a 404 here, where a
# RestController would answer 405.
class V21Controller:
    servers = servers.ServersController()
    images = images_api.ImagesController()
    flavors = images_api.FlavorsController()

    @pecan.expose('json')
    def index(self):
        return {'version': _entry()}


class RootController:
    @pecan.expose('json')
    def index(self):
        return {'versions': [_entry()]}


pecan.route(V21Controller, 'os-volume-migrations',
            volume_migrations.VolumeMigrationsController())
pecan.route(RootController, 'v2.1', V21Controller())
