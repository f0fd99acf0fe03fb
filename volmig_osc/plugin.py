"""openstackclient plugin: ``openstack volume migration ...``.

The commands talk to the compute API's ``os-volume-migrations`` (compute
microversion 2.105) and, to follow a migration, to the volume API at 3.72
(``migration_progress``).
"""

from osc_lib import utils

from volmig_osc import client

API_NAME = 'volume_migration'
API_VERSION_OPTION = 'os_volume_migration_api_version'
DEFAULT_API_VERSION = client.COMPUTE_VERSION
API_VERSIONS = (client.COMPUTE_VERSION,)


def make_client(instance):
    """The client manager calls this on first use of ``volume_migration``."""
    return client.Client(instance)


def build_option_parser(parser):
    parser.add_argument(
        '--os-volume-migration-api-version',
        metavar='<version>',
        default=utils.env('OS_VOLUME_MIGRATION_API_VERSION'),
        help='Compute API microversion of os-volume-migrations '
             '(default: %s)' % DEFAULT_API_VERSION)
    # openstack.config reads every --os-<service>-endpoint-override as that
    # service's endpoint; openstackclient itself declares none for compute,
    # which a deployment without a catalog (noauth) needs.
    parser.add_argument(
        '--os-compute-endpoint-override',
        metavar='<url>',
        default=utils.env('OS_COMPUTE_ENDPOINT_OVERRIDE'),
        help='The compute API endpoint, instead of the catalog\'s '
             '(env OS_COMPUTE_ENDPOINT_OVERRIDE)')
    return parser
