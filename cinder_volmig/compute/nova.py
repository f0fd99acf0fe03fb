"""A thin client of Nova's volume migrations (os-volume-migrations)."""

from keystoneauth1 import exceptions as ks_exceptions

from cinder_volmig import conf as cinder_conf
from cinder_volmig import exception
from volmig_common import migration_contract as contract
from volmig_common import service_client

API_VERSION = 'compute %s' % contract.MICROVERSION
_PATH = '/os-volume-migrations'


def _reason(error):
    return getattr(error, 'details', None) or str(error)


class ComputeAPI:
    """Asks Nova to stop and switch writing a volume, for a request
    context (see service_client); every call names the source
    attachment."""

    def __init__(self, conf):
        self._client = service_client.ServiceClient(
            conf, cinder_conf.NOVA_GROUP, API_VERSION)

    def _request(self, context, method, url, attachment_id, body=None):
        try:
            return self._client.request(context, method, url, body)
        except ks_exceptions.NotFound:
            raise exception.NovaNotFound(attachment_id=attachment_id)
        except ks_exceptions.Conflict as e:
            raise exception.NovaConflict(reason=_reason(e))
        except ks_exceptions.ClientException as e:
            raise exception.NovaError(reason=_reason(e))

    def _action(self, context, attachment_id, action, spec):
        return self._request(context, 'POST',
                             '%s/%s/action' % (_PATH, attachment_id),
                             attachment_id, {action: spec})

    def start(self, context, attachment_id):
        """Returns once Nova no longer writes the attachment's volume."""
        body = {'volume_migration': {'attachment_id': attachment_id}}
        return self._request(context, 'POST', _PATH, attachment_id,
                             body)['volume_migration']

    def complete(self, context, attachment_id, new_attachment_id):
        """Returns once the source attachment is no longer in use."""
        return self._action(
            context, attachment_id, contract.COMPLETE,
            {'new_attachment_id': new_attachment_id})['volume_migration']

    def cancel(self, context, attachment_id):
        """Returns at once: Nova goes back to the source in the
        background (``show`` says when it is done)."""
        self._action(context, attachment_id, contract.CANCEL, None)

    def show(self, context, attachment_id):
        return self._request(context, 'GET',
                             '%s/%s' % (_PATH, attachment_id),
                             attachment_id)['volume_migration']
