"""The version documents both APIs serve at ``/`` and ``/vX/``."""


def version_entry(versions, version_id, base_url, updated):
    return {
        'id': version_id,
        'status': 'CURRENT',
        'version': str(versions.max),
        'min_version': str(versions.min),
        'updated': updated,
        'links': [{'rel': 'self', 'href': base_url.rstrip('/') + '/'}],
        'media-types': [{'base': 'application/json',
                         'type': 'application/vnd.openstack.%s+json;'
                                 'version=%s' % (versions.service_type,
                                                 version_id)}],
    }
