"""Nova's complete accepted but never carried out (its RPC message to the
compute service lost, e.g. in a RabbitMQ restart): the volume service
must neither roll back nor delete the source, but complete again."""

import os

import pytest

from cinder_volmig import exception
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import migration
from tests.unit.cinder_volmig.test_migration_restart import _in_use_volume
from tests.unit.cinder_volmig.test_migration_restart import world  # noqa


def test_lost_complete_is_repeated(world, admin_context):  # noqa: F811
    volume = _in_use_volume(world, admin_context)
    source_path = world.source.driver.local_path(volume)
    record = world.cinder.migrate_volume(admin_context, volume.id,
                                         'node1@slow')
    nova = world.compute.nova
    complete = world.compute.complete
    calls = []

    def lost_then_done(attachment_id, new_attachment_id):
        calls.append(attachment_id)
        if len(calls) == 1:
            nova.records[attachment_id]['status'] = 'completing'
            raise exception.NovaError(reason='did not answer (HTTP 503)')
        # Nova repeats a complete while completing; the fake knows only
        # the one from started.
        nova.records[attachment_id]['status'] = 'started'
        return complete(attachment_id, new_attachment_id)

    world.compute.complete = lost_then_done
    with pytest.raises(migration.RetryComplete):
        world.migrator().run(admin_context, record.id)
    stalled = db_api.migration_get(admin_context, record.id)
    assert stalled.step == 'completing'
    assert stalled.error is None
    assert os.path.exists(source_path)
    assert 'cancel' not in nova.names()
    assert db_api.volume_get(admin_context,
                             volume.id).migration_status == 'migrating'

    finished = world.migrator().run(admin_context, record.id)
    assert finished.step == 'success'
    assert len(calls) == 2
    assert not os.path.exists(source_path)
    [attachment_id] = nova.records
    assert nova.records[attachment_id]['status'] == 'completed'
