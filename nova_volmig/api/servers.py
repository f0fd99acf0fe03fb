"""/v2.1/servers: create, show, list, delete and server actions."""

import json

import pecan
from pecan import rest

from nova_volmig import policies
from nova_volmig import policy
from nova_volmig.api import links
from nova_volmig.api import types
from nova_volmig.api import volume_attachments
from nova_volmig.compute import states
from nova_volmig.db import api as db
from volmig_common import exception as common_exception

# Nova's flavor of a server became a copy of the flavor at 2.47.
FLAVOR_COPY = '2.47'


def _authorize(rule, target=None):
    request = pecan.request
    policy.authorize(request.conf, request.context, rule, target)


def _flavor(instance):
    if pecan.request.version >= FLAVOR_COPY:
        return types.ServerFlavor(
            original_name=instance['flavor_name'],
            ram=instance['memory_mb'], vcpus=instance['vcpus'], disk=0,
            ephemeral=0, swap=0, extra_specs={})
    return types.ServerFlavor(
        id=instance['flavor_name'],
        links=[types.Link(**link) for link in
               links.links('flavors', instance['flavor_name'])[1:]])


def _summary(instance):
    return types.Server(
        id=instance['uuid'], name=instance['name'],
        links=[types.Link(**link)
               for link in links.links('servers', instance['uuid'])])


def _detail(instance):
    request = pecan.request
    server = _summary(instance)
    server.status = states.status(instance['vm_state'],
                                  instance['task_state'])
    server.tenant_id = instance['project_id']
    server.user_id = instance['user_id']
    server.created = db.isotime(instance['created_at'])
    server.updated = db.isotime(instance['updated_at'])
    server.hostId = ''
    server.image = types.ServerImage(
        id=instance['image_ref'],
        links=[types.Link(**link) for link in
               links.links('images', instance['image_ref'])[1:]])
    server.flavor = _flavor(instance)
    server.metadata = {}
    server.addresses = {}
    server.progress = 0
    server.vm_state = instance['vm_state']
    server.task_state = instance['task_state']
    server.power_state = instance['power_state']
    server.volumes_attached = [
        types.VolumeAttached(id=bdm['volume_id'],
                             delete_on_termination=bdm[
                                 'delete_on_termination'])
        for bdm in db.bdm_get_all(request.context, instance['uuid'])]
    if policy.check(request.conf, request.context,
                    policies.EXTENDED_ATTRIBUTES,
                    {'project_id': instance['project_id']}):
        server.host = instance['host']
        server.instance_name = 'volmig-' + instance['uuid']
    return server


def _get(server_id, rule):
    instance = pecan.request.compute_api.get(pecan.request.context,
                                             server_id)
    _authorize(rule, {'project_id': instance['project_id']})
    return instance


class ServerActionController(rest.RestController):
    """POST /servers/{id}/action: one action per request body."""

    def _start(self, server_id, value):
        _get(server_id, policies.SERVERS % 'start')
        pecan.request.compute_api.start(pecan.request.context, server_id)

    def _stop(self, server_id, value):
        _get(server_id, policies.SERVERS % 'stop')
        pecan.request.compute_api.stop(pecan.request.context, server_id)

    def _reboot(self, server_id, value):
        if (not isinstance(value, dict) or set(value) != {'type'}
                or str(value['type']).upper() not in ('HARD', 'SOFT')):
            raise common_exception.Invalid(
                message='reboot needs {"type": "HARD"} or '
                        '{"type": "SOFT"}.')
        _get(server_id, policies.SERVERS % 'reboot')
        pecan.request.compute_api.reboot(
            pecan.request.context, server_id,
            hard=value['type'].upper() == 'HARD')

    def _console_output(self, server_id, value):
        if value is None:
            length = None
        elif isinstance(value, dict) and set(value) <= {'length'}:
            length = value.get('length')
        else:
            raise common_exception.Invalid(
                message='os-getConsoleOutput takes {"length": N} or '
                        '{"length": null}.')
        if isinstance(length, str) and length.lstrip('-').isdigit():
            length = int(length)
        if length is not None and (isinstance(length, bool)
                                   or not isinstance(length, int)
                                   or length < -1):
            raise common_exception.Invalid(
                message='length must be an integer of at least -1.')
        if length == -1:
            length = None
        _get(server_id, policies.CONSOLE_OUTPUT)
        output = pecan.request.compute_api.get_console_output(
            pecan.request.context, server_id, length)
        return {'output': output}

    _ACTIONS = {'os-start': _start, 'os-stop': _stop, 'reboot': _reboot,
                'os-getConsoleOutput': _console_output}

    @pecan.expose(content_type='application/json')
    def post(self, server_id):
        body = pecan.request.json if pecan.request.body else None
        if not isinstance(body, dict) or len(body) != 1:
            raise common_exception.Invalid(
                message='The action body must hold exactly one action.')
        (name, value), = body.items()
        action = self._ACTIONS.get(name)
        if action is None:
            raise common_exception.Invalid(
                message='Unsupported server action %s.' % name)
        result = action(self, server_id, value)
        if result is None:
            pecan.response.status = 202
            return ''
        return json.dumps(result)


class ServersController(rest.RestController):
    _custom_actions = {'detail': ['GET']}

    action = ServerActionController()

    def _list(self, all_tenants, name, status):
        request = pecan.request
        all_tenants = all_tenants is not None and all_tenants.lower() in (
            '', '1', 'true', 'yes', 'on')
        instances = request.compute_api.get_all(request.context,
                                                all_tenants)
        if name is not None:
            instances = [i for i in instances if name in i['name']]
        if status is not None:
            instances = [i for i in instances
                         if states.status(i['vm_state'], i['task_state'])
                         == status.upper()]
        return instances

    @types.wsexpose(types.ServerList, types.text, types.text, types.text)
    def get_all(self, all_tenants=None, name=None, status=None):
        _authorize(policies.SERVERS % 'index')
        return types.ServerList(servers=[
            _summary(i) for i in self._list(all_tenants, name, status)])

    @types.wsexpose(types.ServerList, types.text, types.text, types.text)
    def detail(self, all_tenants=None, name=None, status=None):
        _authorize(policies.SERVERS % 'detail')
        return types.ServerList(servers=[
            _detail(i) for i in self._list(all_tenants, name, status)])

    @types.wsexpose(types.ServerResponse, types.text)
    def get_one(self, server_id):
        instance = _get(server_id, policies.SERVERS % 'show')
        return types.ServerResponse(server=_detail(instance))

    @types.wsexpose(types.ServerResponse,
                    body=types.ServerCreateRequest, status_code=202)
    def post(self, body):
        _authorize(policies.SERVERS % 'create')
        request = pecan.request
        server = body.server
        if not server.name.strip() or len(server.name) > 255:
            raise common_exception.Invalid(
                message='name must be 1 to 255 characters.')
        # imageRef may also be an image's URL, as Nova accepts.
        image_ref = server.imageRef.rstrip('/').rsplit('/', 1)[-1]
        flavor_ref = server.flavorRef.rstrip('/').rsplit('/', 1)[-1]
        instance = request.compute_api.create(
            request.context, server.name, image_ref, flavor_ref)
        return types.ServerResponse(server=_summary(instance))

    @types.wsexpose(None, types.text, status_code=204)
    def delete(self, server_id):
        _get(server_id, policies.SERVERS % 'delete')
        pecan.request.compute_api.delete(pecan.request.context, server_id)


pecan.route(ServersController, 'os-volume_attachments',
            volume_attachments.VolumeAttachmentsController())
