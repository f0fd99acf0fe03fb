"""The volume migration state table, checked pair by pair."""

import collections

import pytest

from nova_volmig import exception
from nova_volmig.compute import migration_states as ms

EVENTS = ('start', 'started', 'complete', 'completed', 'cancel',
          'cancelled', 'fail')

# What each event does to each status, written from the contract rather
# than read from the table: '-' refused (409), '=' a retry that changes
# nothing, otherwise the new status. Columns are EVENTS, in order.
EXPECTED = {
    # start, started, complete, completed, cancel, cancelled, fail
    'starting': ('-', 'started', '-', '-', '-', '-', 'error'),
    'started': ('=', '-', 'completing', '-', 'cancelling', '-', 'error'),
    'completing': ('-', '-', '=', 'completed', '-', '-', 'error'),
    'completed': ('-', '-', '=', '-', '-', '-', '-'),
    'cancelling': ('-', '-', '-', '-', '=', 'cancelled', 'error'),
    'cancelled': ('-', '-', '-', '-', '=', '-', '-'),
    'error': ('-', '-', '-', '-', '-', '-', '-'),
}
FINAL = {'completed', 'cancelled', 'error'}


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
    seen = {'starting'}
    queue = collections.deque(seen)
    while queue:
        for successor in _successors(queue.popleft()):
            if successor not in seen:
                seen.add(successor)
                queue.append(successor)
    assert seen == set(ms.STATUSES)


@pytest.mark.parametrize('status', sorted(FINAL))
def test_final_statuses_never_change(status):
    assert _successors(status) == set()


@pytest.mark.parametrize('status', sorted(set(EXPECTED) - FINAL))
def test_fail_ends_every_unfinished_status_in_error(status):
    assert ms.next_status(status, 'fail') == 'error'


@pytest.mark.parametrize('event,report', [('complete', 'completed'),
                                          ('cancel', 'cancelled')])
def test_repeating_an_action_after_it_took_effect_is_same(event, report):
    status = ms.next_status('started', event)
    assert ms.next_status(status, event) is ms.SAME
    done = ms.next_status(status, report)
    assert done in FINAL
    assert ms.next_status(done, event) is ms.SAME


def test_retried_start_is_same_only_once_started():
    assert ms.next_status('started', 'start') is ms.SAME
    assert _outcome('starting', 'start') == '-'
