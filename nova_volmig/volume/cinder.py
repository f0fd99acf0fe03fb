"""A thin client of the volume API (Cinder's attachments API, 3.44)."""

from keystoneauth1 import exceptions as ks_exceptions

from nova_volmig import exception
from nova_volmig.conf import cinder as cinder_conf
from volmig_common import service_client

API_VERSION = 'volume 3.44'


class VolumeAPI:
    """Calls the volume API for a request context: the caller's token
    with the compute service's as a service token, or the compute
    service's alone for its own work."""

    def __init__(self, conf):
        self._client = service_client.ServiceClient(
            conf, cinder_conf.GROUP, API_VERSION)

    def _request(self, context, method, url, volume_id, body=None):
        try:
            return self._client.request(context, method, url, body)
        except ks_exceptions.NotFound:
            raise exception.VolumeNotFound(volume_id=volume_id)
        except ks_exceptions.HttpError as e:
            if 400 <= e.http_status < 500:
                raise exception.InvalidVolume(reason=e.details or e.message)
            raise exception.VolumeServiceError(reason=e.message)
        except ks_exceptions.ClientException as e:
            raise exception.VolumeServiceError(reason=str(e))

    def get(self, context, volume_id):
        return self._request(context, 'GET', '/volumes/%s' % volume_id,
                             volume_id)['volume']

    def delete(self, context, volume_id):
        self._request(context, 'DELETE', '/volumes/%s' % volume_id,
                      volume_id)

    def attachment_create(self, context, volume_id, instance_uuid):
        body = {'attachment': {'volume_uuid': volume_id,
                               'instance_uuid': instance_uuid}}
        return self._request(context, 'POST', '/attachments', volume_id,
                             body)['attachment']

    def attachment_update(self, context, attachment_id, volume_id,
                          connector):
        body = {'attachment': {'connector': connector}}
        return self._request(context, 'PUT',
                             '/attachments/%s' % attachment_id, volume_id,
                             body)['attachment']

    def attachment_complete(self, context, attachment_id, volume_id):
        self._request(context, 'POST',
                      '/attachments/%s/action' % attachment_id, volume_id,
                      {'os-complete': None})

    def attachment_delete(self, context, attachment_id, volume_id):
        self._request(context, 'DELETE', '/attachments/%s' % attachment_id,
                      volume_id)
