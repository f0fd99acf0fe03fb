"""The volume migration's step table, checked pair by pair."""

import collections
import types

import pytest

from cinder_volmig import exception
from cinder_volmig.db import api as db_api
from cinder_volmig.volume import migration
from cinder_volmig.volume import migration_steps as steps
from tests.unit import state_machines

STEPS = ('starting', 'creating_destination', 'attaching', 'suspending',
         'copying', 'completing', 'swapping', 'deleting_source', 'success',
         'rolling_back', 'error')

# Written from the design rather than read from the table. For each step:
# where it may go ('x' forward, 'f' where a failure of its handler goes,
# '.' refused; columns are STEPS, in order), whether it is past the point
# of no return, and whether it is final.
EXPECTED = {
    #                        st cd at su co cm sw ds ok rb er
    'starting':             ('.  x  .  .  .  .  .  .  .  f  x', False, False),
    'creating_destination': ('.  .  x  .  x  .  .  .  .  f  .', False, False),
    'attaching':            ('.  .  .  x  .  .  .  .  .  f  .', False, False),
    'suspending':           ('.  .  .  .  x  .  .  .  .  f  .', False, False),
    'copying':              ('.  .  .  .  .  x  .  .  .  f  .', False, False),
    'completing':           ('.  .  .  .  .  .  x  .  .  f  .', False, False),
    'swapping':             ('.  .  .  .  .  .  .  x  .  .  .', True, False),
    'deleting_source':      ('.  .  .  .  .  .  .  .  x  .  .', True, False),
    'success':              ('.  .  .  .  .  .  .  .  .  .  .', True, True),
    'rolling_back':         ('.  .  .  .  .  x  x  .  .  .  x', False, False),
    'error':                ('.  .  .  .  .  .  .  .  .  .  .', False, True),
}
FINAL = {step for step, row in EXPECTED.items() if row[2]}
PAST_RETURN = {step for step, row in EXPECTED.items() if row[1]}


def _expected(step, next_step):
    return EXPECTED[step][0].split()[STEPS.index(next_step)]


def _legal(step, next_step):
    try:
        steps.check(step, next_step)
    except exception.InvalidMigrationStep as e:
        assert e.message == ('A volume migration cannot go from step %s '
                             'to %s.' % (step, next_step))
        return False
    return True


def _successors(step):
    return {n for n in STEPS if _legal(step, n)}


def test_matrix_covers_the_table():
    assert STEPS == steps.STEPS
    assert FINAL == steps.FINAL
    assert PAST_RETURN == steps.PAST_RETURN


@pytest.mark.parametrize('step', STEPS)
@pytest.mark.parametrize('next_step', STEPS)
def test_every_move(step, next_step):
    assert _legal(step, next_step) == (_expected(step, next_step) != '.')


@pytest.mark.parametrize('step', STEPS)
def test_where_a_failure_goes(step):
    [failure_step] = [n for n in STEPS if _expected(step, n) == 'f'] or [None]
    assert steps.on_failure(step) == failure_step


@pytest.mark.parametrize('step', STEPS)
def test_final_and_past_return(step):
    _, past_return, final = EXPECTED[step]
    assert (step in steps.FINAL) == final
    assert (step in steps.PAST_RETURN) == past_return


@pytest.mark.parametrize('step', ['', 'nova_started', 'SUCCESS', None])
def test_unknown_steps_go_nowhere(step):
    assert not _legal(step, 'error')
    assert not _legal('starting', step)


def test_every_step_reachable_from_starting():
    assert state_machines.reachable('starting', _successors) == set(STEPS)


@pytest.mark.parametrize('step', sorted(set(STEPS) - FINAL))
def test_every_unfinished_step_can_end(step):
    seen, queue = {step}, collections.deque([step])
    while queue:
        for successor in _successors(queue.popleft()) - seen:
            seen.add(successor)
            queue.append(successor)
    assert seen & FINAL


@pytest.mark.parametrize('step', sorted(PAST_RETURN))
def test_no_way_back_from_past_the_point_of_no_return(step):
    assert _successors(step) <= PAST_RETURN


@pytest.mark.parametrize('step', sorted(set(STEPS) - PAST_RETURN - FINAL
                                        - {'rolling_back'}))
def test_failures_before_the_point_of_no_return_roll_back(step):
    assert steps.on_failure(step) == 'rolling_back'


def test_every_unfinished_step_has_a_handler():
    conf = types.SimpleNamespace(max_concurrent_migrations=1)
    migrator = migration.Migrator(conf, manager=None, compute_api=object(),
                                  volume_rpcapi=object())
    assert set(migrator.handlers) == set(STEPS) - FINAL
    assert all(callable(handler)
               for handler in migrator.handlers.values())


def test_the_database_refuses_an_illegal_move(conf, admin_context):
    db_api.volume_create(admin_context, {
        'id': 'v1', 'size': 1, 'status': 'available',
        'multiattach': False, 'bootable': False})
    record = db_api.migration_create(
        admin_context, 'v1', {'status': 'available'},
        {'migration_status': 'starting'},
        {'source_host': 'node1@fast#fast', 'source_name_id': 'v1',
         'dest_host': 'node1@slow#slow', 'previous_status': 'available',
         'lock_volume': False, 'force_host_copy': False})
    assert record.step == 'starting'
    assert not record.nova_start_requested
    with pytest.raises(exception.InvalidMigrationStep):
        db_api.migration_move(admin_context, record.id, 'starting',
                              'swapping')
    # A legal move from a step the migration has left loses the race.
    assert not db_api.migration_move(admin_context, record.id, 'copying',
                                     'completing')
    assert db_api.migration_move(admin_context, record.id, 'starting',
                                 'error', error='test')
    after = db_api.migration_get(admin_context, record.id)
    assert (after.step, after.error) == ('error', 'test')
