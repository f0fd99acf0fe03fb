"""``/v3/{project_id}/os-services`` (listing only)."""

import pecan
from pecan import rest

from cinder_volmig.api import types
from cinder_volmig.api import views
from cinder_volmig.api.controllers import base


class ServicesController(rest.RestController):
    @types.expose(types.ServiceList, types.text, types.text)
    def get_all(self, host=None, binary=None):
        base.authorize('volume_extension:services:index')
        request = pecan.request
        services = request.volume_api.service_get_all(
            request.context, host=host, binary=binary)
        return types.ServiceList(services=[
            views.service(request, service, is_up)
            for service, is_up in services])
