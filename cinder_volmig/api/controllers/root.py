"""``/`` and ``/v3``: version documents, and the project level."""

import pecan

from cinder_volmig.api.controllers import attachments
from cinder_volmig.api.controllers import services
from cinder_volmig.api.controllers import volumes
from volmig_common import microversion
from volmig_common import versions as volmig_versions

# 3.0 to 3.71: what python-cinderclient 9.x and openstacksdk speak;
# 3.72 adds migration_progress to volumes (admins only).
VERSIONS = microversion.VersionRange('volume', '3.0', '3.72')
VERSION_ID = 'v3.0'
UPDATED = '2025-02-01T00:00:00Z'


def _version_entry():
    return volmig_versions.version_entry(
        VERSIONS, VERSION_ID, pecan.request.host_url + '/v3/', UPDATED)


class ProjectController:
    """The resources of one project, as ``/v3/{project_id}/…``."""

    volumes = volumes.VolumesController()
    attachments = attachments.AttachmentsController()


# Names with a hyphen cannot be attributes.
pecan.route(ProjectController, 'os-services', services.ServicesController())


class V3Controller(ProjectController):
    """``/v3``; from 3.67 the project id in the path is optional."""

    @pecan.expose('json')
    def index(self):
        return {'version': _version_entry()}

    @pecan.expose()
    def _lookup(self, project_id, *remainder):
        # Routing runs before the context exists: base.authorize checks it.
        pecan.request.url_project_id = project_id
        return ProjectController(), remainder


class RootController:
    v3 = V3Controller()

    @pecan.expose('json')
    def index(self):
        # 300 Multiple Choices, as Cinder answers at its root.
        pecan.response.status = 300
        return {'versions': [_version_entry()]}
