"""A guest writes to a Cinder volume attached through the compute API."""

from tests.functional import deployment as deployment_mod
from tests.functional import guest_records

MIN_ACKS = 200


def _attachment_path(deployment, attachment_id):
    attachment = deployment.volume.get('/attachments/%s' % attachment_id)
    assert attachment.status_code == 200, attachment.text
    info = attachment.json()['attachment']['connection_info']
    return info['data']['device_path']


def test_guest_writes_reach_the_volume_file(deployment):
    volume = deployment.create_volume(size=1, name='data')
    server = deployment.boot_server()
    sid, vid = server['id'], volume['id']

    response = deployment.compute.post(
        '/servers/%s/os-volume_attachments' % sid,
        {'volumeAttachment': {'volumeId': vid}})
    assert response.status_code == 200, response.text
    attachment = response.json()['volumeAttachment']
    assert attachment['volumeId'] == vid
    path = _attachment_path(deployment, attachment['attachment_id'])
    deployment.wait_volume(vid, 'in-use')

    deployment_mod.wait_for(
        lambda: guest_records.count_acks(deployment.console(sid)) >= MIN_ACKS,
        180, '%d acknowledged guest writes' % MIN_ACKS)

    response = deployment.compute.delete(
        '/servers/%s/os-volume_attachments/%s' % (sid, vid))
    assert response.status_code == 202, response.text
    deployment.wait_volume(vid, 'available')
    listed = deployment.compute.get('/servers/%s/os-volume_attachments' % sid)
    assert listed.json()['volumeAttachments'] == []

    # Detached: no more writes can land, so the console is final for it.
    console = deployment.console(sid)
    acks = guest_records.count_acks(console)
    assert acks >= MIN_ACKS
    assert guest_records.verify_volume(path, console) == []
    print('acknowledged guest writes checked: %d' % acks)

    assert deployment.compute.delete('/servers/%s' % sid).status_code == 204
    assert deployment.volume.delete('/volumes/%s' % vid).status_code == 202
