"""[libvirt]: how the libvirt driver reaches and uses libvirtd."""

from oslo_config import cfg

libvirt_opts = [
    cfg.StrOpt('connection_uri', default='qemu:///system',
               help='libvirt URI of the hypervisor.'),
    cfg.StrOpt('virt_type', default='qemu', choices=['qemu', 'kvm'],
               help='Domain type. qemu (TCG) is the default because KVM '
                    'cannot boot the test guest on every host.'),
    cfg.StrOpt('instances_path', default='$state_path/instances',
               help='Directory of per-instance files (console logs).'),
    cfg.BoolOpt('live_volume_migration', default=True,
                help='Whether the driver reports live volume migration; '
                     'False makes it behave as a hypervisor without it.'),
    cfg.IntOpt('device_detach_timeout', default=20, min=1,
               help='Seconds to wait for a guest to release a hot-unplugged '
                    'disk.'),
]


def register_opts(conf):
    conf.register_opts(libvirt_opts, group='libvirt')


def list_opts():
    return [('libvirt', libvirt_opts)]
