"""The compute API's root: version documents and the /v2.1 resources."""

import pecan

from nova_volmig.api import images as images_api
from nova_volmig.api import servers
from volmig_common import microversion
from volmig_common import versions

VERSIONS = microversion.VersionRange(
    'compute', '2.1', '2.104',
    legacy_headers=['X-OpenStack-Nova-API-Version'])
VERSION_ID = 'v2.1'
UPDATED = '2013-07-23T11:33:21Z'


def _entry():
    return versions.version_entry(
        VERSIONS, VERSION_ID, pecan.request.host_url + '/v2.1/', UPDATED)


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


pecan.route(RootController, 'v2.1', V21Controller())
