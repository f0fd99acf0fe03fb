"""Helpers of the cinder_volmig API tests."""

import time

PROJECT = 'demo'
TOKEN = 'alice:%s' % PROJECT


def headers(version=None):
    if version is None:
        return {}
    return {'OpenStack-API-Version': 'volume %s' % version}


def url(path):
    return '/v3/%s%s' % (PROJECT, path)


def wait_for_status(api, volume_id, status, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        volume = api.get(url('/volumes/%s' % volume_id)).json['volume']
        if volume['status'] == status:
            return volume
        if time.monotonic() > deadline:
            raise AssertionError('volume %s stayed %s, not %s'
                                 % (volume_id, volume['status'], status))
        time.sleep(0.02)


def wait_until_deleted(api, volume_id, timeout=10):
    deadline = time.monotonic() + timeout
    while api.get(url('/volumes/%s' % volume_id),
                  expect_errors=True).status_int != 404:
        if time.monotonic() > deadline:
            raise AssertionError('volume %s was not deleted' % volume_id)
        time.sleep(0.02)


def create_volume(api, size=1, **fields):
    body = {'volume': dict(size=size, **fields)}
    response = api.post_json(url('/volumes'), body)
    assert response.status_int == 202
    return wait_for_status(api, response.json['volume']['id'], 'available')


def assert_error(response, status, fragment):
    assert response.status_int == status, response.body
    assert response.content_type == 'application/json'
    error = response.json['error']
    assert error['code'] == status
    assert fragment in error['message'], error['message']
