import pytest

from volmig_common import exception
from volmig_common import microversion

VERSIONS = microversion.VersionRange(
    'compute', '2.1', '2.104',
    legacy_headers=['X-OpenStack-Nova-API-Version'])


@pytest.mark.parametrize('headers,expected', [
    ({}, '2.1'),
    ({'OpenStack-API-Version': 'compute 2.53'}, '2.53'),
    ({'OpenStack-API-Version': 'compute latest'}, '2.104'),
    ({'OpenStack-API-Version': 'volume 3.9'}, '2.1'),
    ({'X-OpenStack-Nova-API-Version': '2.10'}, '2.10'),
])
def test_negotiate(headers, expected):
    assert str(VERSIONS.negotiate(headers)) == expected


@pytest.mark.parametrize('value', ['2.0', '2.105', '3.1'])
def test_out_of_range_is_not_acceptable(value):
    with pytest.raises(exception.VersionNotAcceptable) as e:
        VERSIONS.negotiate({'OpenStack-API-Version': 'compute ' + value})
    assert e.value.code == 406


@pytest.mark.parametrize('value', ['2', 'x.y', '2.01', '02.1', ''])
def test_malformed_is_bad_request(value):
    with pytest.raises(exception.Invalid):
        microversion.APIVersion(value)


def test_ordering_is_numeric():
    assert microversion.APIVersion('2.10') > '2.9'
    assert microversion.APIVersion('3.0') > '2.104'
    assert microversion.APIVersion('2.27') == '2.27'
