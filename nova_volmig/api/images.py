"""/v2.1/images and /v2.1/flavors: read-only views of configuration."""

import datetime

import pecan
from pecan import rest

from nova_volmig import catalog
from nova_volmig.api import links
from nova_volmig.api import types

# Flavor descriptions and extra specs appear from these microversions.
FLAVOR_DESCRIPTION = '2.55'
FLAVOR_EXTRA_SPECS = '2.61'


def _link_objects(collection, resource_id):
    return [types.Link(**link) for link in links.links(collection,
                                                       resource_id)]


def _image(image, detail):
    view = types.Image(id=image['id'], name=image['name'],
                       links=_link_objects('images', image['id']))
    if detail:
        stamp = datetime.datetime.fromtimestamp(
            image['mtime'], datetime.timezone.utc).strftime(
                '%Y-%m-%dT%H:%M:%SZ')
        view.status = 'ACTIVE'
        view.progress = 100
        view.minDisk = 0
        view.minRam = 0
        view.created = stamp
        view.updated = stamp
        view.metadata = {}
        view.size = image['size']
    return view


class ImagesController(rest.RestController):
    _custom_actions = {'detail': ['GET']}

    @types.wsexpose(types.ImageList)
    def get_all(self):
        return types.ImageList(images=[
            _image(i, False) for i in catalog.list_images(pecan.request.conf)])

    @types.wsexpose(types.ImageList)
    def detail(self):
        return types.ImageList(images=[
            _image(i, True) for i in catalog.list_images(pecan.request.conf)])

    @types.wsexpose(types.ImageResponse, types.text)
    def get_one(self, image_id):
        image = catalog.get_image(pecan.request.conf, image_id)
        return types.ImageResponse(image=_image(image, True))


def _flavor(flavor, detail):
    view = types.Flavor(id=flavor['id'], name=flavor['name'],
                        links=_link_objects('flavors', flavor['id']))
    if detail:
        version = pecan.request.version
        view.ram = flavor['ram']
        view.vcpus = flavor['vcpus']
        view.disk = flavor['disk']
        view.swap = ''
        view.rxtx_factor = 1.0
        view.ephemeral = flavor['ephemeral']
        view.is_public = True
        view.disabled = False
        if version >= FLAVOR_DESCRIPTION:
            view.description = None
        if version >= FLAVOR_EXTRA_SPECS:
            view.extra_specs = {}
    return view


class FlavorsController(rest.RestController):
    _custom_actions = {'detail': ['GET']}

    @types.wsexpose(types.FlavorList)
    def get_all(self):
        return types.FlavorList(flavors=[
            _flavor(f, False)
            for f in catalog.list_flavors(pecan.request.conf)])

    @types.wsexpose(types.FlavorList)
    def detail(self):
        return types.FlavorList(flavors=[
            _flavor(f, True)
            for f in catalog.list_flavors(pecan.request.conf)])

    @types.wsexpose(types.FlavorResponse, types.text)
    def get_one(self, flavor_id):
        flavor = catalog.get_flavor(pecan.request.conf, flavor_id)
        return types.FlavorResponse(flavor=_flavor(flavor, True))
