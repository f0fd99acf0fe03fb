"""The compute API's microversions, one named constant per change.

History of the versions this API adds to Nova's (which ends at 2.104):

* 2.105 - os-volume-migrations: start, cancel, complete, show and list
  migrations of attached volumes, keyed by the source attachment.
"""

from volmig_common import microversion

VOLUME_MIGRATIONS = '2.105'

VERSIONS = microversion.VersionRange(
    'compute', '2.1', VOLUME_MIGRATIONS,
    legacy_headers=['X-OpenStack-Nova-API-Version'])
