"""Self and bookmark links of API resources."""

import pecan


def links(collection, resource_id):
    host_url = pecan.request.host_url
    return [
        {'rel': 'self',
         'href': '%s/v2.1/%s/%s' % (host_url, collection, resource_id)},
        {'rel': 'bookmark',
         'href': '%s/%s/%s' % (host_url, collection, resource_id)},
    ]
