"""The compute API's root: version documents and the /v2.1 resources."""

import pecan
from pecan import rest

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


class V21Controller(rest.RestController):
    servers = servers.ServersController()
    images = images_api.ImagesController()
    flavors = images_api.FlavorsController()

    @pecan.expose('json')
    def get_all(self):
        return {'version': _entry()}


class RootController(rest.RestController):
    @pecan.expose('json')
    def get_all(self):
        return {'versions': [_entry()]}


pecan.route(RootController, 'v2.1', V21Controller())
