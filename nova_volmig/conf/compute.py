"""[compute]: images, flavors and how the compute service behaves."""

from oslo_config import cfg

compute_opts = [
    cfg.StrOpt('compute_driver', default='libvirt',
               choices=[('libvirt', 'Guests run under libvirtd.')],
               help='The hypervisor driver of the compute service.'),
    cfg.StrOpt('image_dir', default='$state_path/images',
               help='Directory of images: each subdirectory NAME holding '
                    'vmlinuz and initrd.img (and optionally a cmdline file) '
                    'is the image NAME.'),
    cfg.StrOpt('default_image', default='volmig-guest',
               help='Name of the image the tools/ test guest is installed '
                    'as.'),
    cfg.ListOpt('flavors', default=['m1.tiny:256:1', 'm1.small:512:1'],
                help='Flavors, each NAME:RAM_MB:VCPUS; the name is the '
                     'flavor id.'),
    cfg.IntOpt('shutdown_timeout', default=5, min=0,
               help='Seconds a guest gets to power off on its own when '
                    'stopped before it is destroyed.'),
    cfg.IntOpt('sync_power_state_interval', default=10, min=1,
               help='Seconds between two syncs of instance power states '
                    'with the hypervisor.'),
    cfg.FloatOpt('volume_migration_switch_wait', default=30, min=0,
                 help='Seconds a complete call waits for the switch to the '
                      'destination before it answers that the switch is '
                      'still under way (the caller retries). Keep it below '
                      'the callers\' rpc_response_timeout.'),
    cfg.FloatOpt('volume_migration_retry_interval', default=10, min=0.1,
                 help='Seconds before a volume migration step that failed '
                      '(committing, going back to the source) is tried '
                      'again; it is tried until it succeeds.'),
]


def register_opts(conf):
    conf.register_opts(compute_opts, group='compute')


def list_opts():
    return [('compute', compute_opts)]
