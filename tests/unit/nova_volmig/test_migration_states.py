"""The volume migration state table, checked pair by pair."""

import pytest

from nova_volmig import exception
from nova_volmig.compute import migration_states as ms
from tests.unit import state_machines

EVENTS = ('start', 'started', 'complete', 'switched', 'completed', 'cancel',
          'cancelled', 'roll_back', 'rolled_back')

# What each event does to each status, written from the contract rather
# than read from the table: '-' refused (409), '=' a retry that changes
# nothing, otherwise the new status. Columns are EVENTS, in order.
EXPECTED = {
    # start, started, complete, switched, completed, cancel, cancelled,
    # roll_back, rolled_back
    'starting': ('-', 'started', '-', '-', '-', '-', '-', 'reconciling',
                 '-'),
    'started': ('=', '-', 'completing', '-', '-', 'cancelling', '-',
                'reconciling', '-'),
    'completing': ('-', '-', '=', 'finishing', '-', '-', '-', 'reconciling',
                   '-'),
    'finishing': ('-', '-', '=', '-', 'completed', '-', '-', '-', '-'),
    'completed': ('-', '-', '=', '-', '-', '-', '-', '-', '-'),
    'cancelling': ('-', '-', '-', '-', '-', '=', 'cancelled', '-', '-'),
    'cancelled': ('-', '-', '-', '-', '-', '=', '-', '-', '-'),
    'reconciling': ('-', '-', '-', '-', '-', '=', '-', '=', 'error'),
    'error': ('-', '-', '-', '-', '-', '=', '-', '-', '-'),
}
FINAL = {'completed', 'cancelled', 'error'}
# Once the guest may write the destination, nothing goes back.
PAST_RETURN = {'finishing', 'completed'}


def _outcome(status, event):
    try:
        result = ms.next_status(status, event)
    except exception.VolumeMigrationInvalidState as e:
        assert e.code == 409
        assert e.message == 'Cannot %s a volume migration that is %s.' % (
            event, status)
        return '-'
    return '=' if result is ms.SAME else result


def test_matrix_covers_the_table():
    assert set(EXPECTED) == set(ms.STATUSES)
    assert EVENTS == ms.EVENTS
    assert FINAL == ms.FINAL


@pytest.mark.parametrize('status', sorted(EXPECTED))
@pytest.mark.parametrize('event', EVENTS)
def test_every_pair(status, event):
    expected = EXPECTED[status][EVENTS.index(event)]
    assert _outcome(status, event) == expected


def _successors(status):
    return {_outcome(status, event) for event in EVENTS} - {'-', '='}


def test_every_status_reachable_from_starting():
    assert state_machines.reachable('starting', _successors) == set(
        ms.STATUSES)


@pytest.mark.parametrize('status', sorted(FINAL))
def test_final_statuses_never_change(status):
    assert _successors(status) == set()


@pytest.mark.parametrize('status', ['starting', 'started', 'completing',
                                    'reconciling'])
def test_every_step_before_the_switch_can_roll_back(status):
    target = ms.next_status(status, 'roll_back')
    assert target is ms.SAME or target == 'reconciling'
    assert ms.next_status('reconciling', 'rolled_back') == 'error'


@pytest.mark.parametrize('status', sorted(PAST_RETURN))
def test_nothing_rolls_back_once_switched(status):
    with pytest.raises(exception.VolumeMigrationInvalidState):
        ms.next_status(status, 'roll_back')


def test_driven_statuses_are_the_unfinished_ones_with_work():
    assert ms.DRIVEN == {'completing', 'finishing', 'cancelling',
                         'reconciling'}


@pytest.mark.parametrize('event,reports', [
    ('complete', ('switched', 'completed')),
    ('cancel', ('cancelled',))])
def test_repeating_an_action_after_it_took_effect_is_same(event, reports):
    status = ms.next_status('started', event)
    for report in reports:
        assert ms.next_status(status, event) is ms.SAME
        status = ms.next_status(status, report)
    assert status in FINAL
    assert ms.next_status(status, event) is ms.SAME


def test_retried_start_is_same_only_once_started():
    assert ms.next_status('started', 'start') is ms.SAME
    assert _outcome('starting', 'start') == '-'
