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
    cfg.StrOpt('volume_migration_overlays_path',
               default='$instances_path/volume-migration-overlays',
               help='Local directory of the qcow2 overlays that take a '
                    'running guest\'s writes while its volume migrates.'),
    cfg.IntOpt('volume_migration_overlays_reserve', default=1024, min=0,
               help='MiB that must stay free where the overlays live: a '
                    'migration does not start with less, and a switch '
                    'that would leave less (the destination overlay is a '
                    'copy of the overlay) goes back to the source. A full '
                    'overlay pauses the guest until the migration ends.'),
    cfg.IntOpt('volume_migration_commit_bandwidth', default=0, min=0,
               help='MiB/s a volume migration may use to commit the '
                    'overlay into the volume (0: no limit). A limit '
                    'below the guest\'s write rate keeps it from ending.'),
    cfg.IntOpt('volume_migration_switch_bandwidth', default=0, min=0,
               help='MiB/s the switch of a completing volume migration '
                    'may use to copy the overlay onto the destination (0: '
                    'no limit). The caller of complete waits for it, and '
                    'a limit below the guest\'s write rate keeps it from '
                    'ending.'),
    cfg.IntOpt('block_job_timeout', default=600, min=1,
               help='Seconds a block job (copy or commit) may take to '
                    'catch up with the guest\'s writes.'),
    cfg.IntOpt('device_detach_timeout', default=20, min=1,
               help='Seconds to wait for a guest to release a hot-unplugged '
                    'disk.'),
]


def register_opts(conf):
    conf.register_opts(libvirt_opts, group='libvirt')


def list_opts():
    return [('libvirt', libvirt_opts)]
