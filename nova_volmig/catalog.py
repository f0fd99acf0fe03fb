"""Images and flavors, both read from configuration.

An image is a directory under ``[compute] image_dir`` holding a kernel and
an initramfs for direct boot; a flavor is a ``name:ram_mb:vcpus`` entry of
``[compute] flavors``.
"""

import os
import uuid

from nova_volmig import exception

DEFAULT_CMDLINE = 'console=ttyS0 quiet'
KERNEL = 'vmlinuz'
INITRD = 'initrd.img'
CMDLINE = 'cmdline'


def image_id(name):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, 'volmig-image:' + name))


def _image(image_dir, name):
    path = os.path.join(image_dir, name)
    kernel = os.path.join(path, KERNEL)
    cmdline_path = os.path.join(path, CMDLINE)
    cmdline = DEFAULT_CMDLINE
    if os.path.isfile(cmdline_path):
        with open(cmdline_path) as f:
            cmdline = f.read().strip()
    stat = os.stat(kernel)
    return {'id': image_id(name), 'name': name, 'kernel': kernel,
            'initrd': os.path.join(path, INITRD), 'cmdline': cmdline,
            'size': stat.st_size + os.path.getsize(
                os.path.join(path, INITRD)),
            'mtime': stat.st_mtime}


def list_images(conf):
    image_dir = conf.compute.image_dir
    if not os.path.isdir(image_dir):
        return []
    return [_image(image_dir, name) for name in sorted(os.listdir(image_dir))
            if os.path.isfile(os.path.join(image_dir, name, KERNEL))
            and os.path.isfile(os.path.join(image_dir, name, INITRD))]


def get_image(conf, image_ref):
    for image in list_images(conf):
        if image['id'] == image_ref:
            return image
    raise exception.ImageNotFound(image_id=image_ref)


def _flavor(entry):
    name, ram, vcpus = entry.split(':')
    return {'id': name, 'name': name, 'ram': int(ram), 'vcpus': int(vcpus),
            'disk': 0, 'ephemeral': 0, 'swap': 0}


def list_flavors(conf):
    return [_flavor(entry) for entry in conf.compute.flavors]


def get_flavor(conf, flavor_id):
    for flavor in list_flavors(conf):
        if flavor['id'] == flavor_id:
            return flavor
    raise exception.FlavorNotFound(flavor_id=flavor_id)
