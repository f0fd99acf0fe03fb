"""The volume migration state machine: everything that moves it is here.

A migration record moves only through ``TRANSITIONS``. An event that the
table does not list for the current status is refused (409). Retried
events that already took effect are listed as ``SAME``: they change
nothing and answer with the record as it is, so a caller may retry after a
lost reply.
"""

from nova_volmig import exception
from volmig_common import migration_contract as contract

STARTING = contract.STARTING      # start accepted; writes not yet suspended
STARTED = contract.STARTED        # no more writes reach the source
COMPLETING = contract.COMPLETING  # switching to the destination
COMPLETED = contract.COMPLETED
CANCELLING = contract.CANCELLING  # going back to the source
CANCELLED = contract.CANCELLED
ERROR = contract.ERROR

STATUSES = (STARTING, STARTED, COMPLETING, COMPLETED, CANCELLING, CANCELLED,
            ERROR)
FINAL = frozenset({COMPLETED, CANCELLED, ERROR})

# Events: what the API asks for, and what the compute service reports.
START = 'start'
STARTED_OK = 'started'
COMPLETE = 'complete'
COMPLETED_OK = 'completed'
CANCEL = 'cancel'
CANCELLED_OK = 'cancelled'
FAIL = 'fail'

EVENTS = (START, STARTED_OK, COMPLETE, COMPLETED_OK, CANCEL, CANCELLED_OK,
          FAIL)

SAME = object()  # a retry of an event that already took effect

TRANSITIONS = {
    (STARTING, STARTED_OK): STARTED,
    (STARTING, FAIL): ERROR,
    (STARTED, START): SAME,
    (STARTED, COMPLETE): COMPLETING,
    (STARTED, CANCEL): CANCELLING,
    (STARTED, FAIL): ERROR,
    (COMPLETING, COMPLETE): SAME,
    (COMPLETING, COMPLETED_OK): COMPLETED,
    (COMPLETING, FAIL): ERROR,
    (COMPLETED, COMPLETE): SAME,
    (CANCELLING, CANCEL): SAME,
    (CANCELLING, CANCELLED_OK): CANCELLED,
    (CANCELLING, FAIL): ERROR,
    (CANCELLED, CANCEL): SAME,
}


def next_status(status, event):
    """The status ``event`` leads to from ``status``, or ``SAME``.

    Raises VolumeMigrationInvalidState when the event is not allowed.
    """
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise exception.VolumeMigrationInvalidState(
            event=event, status=status) from None
