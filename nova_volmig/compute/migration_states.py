"""The volume migration state machine: everything that moves it is here.

A migration record moves only through ``TRANSITIONS``. An event that the
table does not list for the current status is refused (409). Retried
events that already took effect are listed as ``SAME``: they change
nothing and answer with the record as it is, so a caller may retry after a
lost reply.
"""

from nova_volmig import exception
from volmig_common import migration_contract as contract

# The statuses, as the contract defines them for Cinder.
STARTING = contract.STARTING
STARTED = contract.STARTED
COMPLETING = contract.COMPLETING
FINISHING = contract.FINISHING
COMPLETED = contract.COMPLETED
CANCELLING = contract.CANCELLING
CANCELLED = contract.CANCELLED
RECONCILING = contract.RECONCILING
ERROR = contract.ERROR

STATUSES = contract.STATUSES
FINAL = contract.FINAL
# Statuses in which the compute service has work to do, retried until
# done: what a restart, a lost message or a failure left must go on.
DRIVEN = frozenset({COMPLETING, FINISHING, CANCELLING, RECONCILING})

# Events: what the API asks for, and what the compute service reports.
START = 'start'
STARTED_OK = 'started'
COMPLETE = 'complete'
SWITCHED = 'switched'        # the source is free
COMPLETED_OK = 'completed'
CANCEL = 'cancel'
CANCELLED_OK = 'cancelled'
ROLL_BACK = 'roll_back'      # a step failed, or its outcome is unknown
ROLLED_BACK = 'rolled_back'  # the guest uses the source, every write in it

EVENTS = (START, STARTED_OK, COMPLETE, SWITCHED, COMPLETED_OK, CANCEL,
          CANCELLED_OK, ROLL_BACK, ROLLED_BACK)

SAME = object()  # a retry of an event that already took effect

# Once the guest may use the destination (finishing), the only way is
# forward: a failure there is retried, never rolled back.
TRANSITIONS = {
    (STARTING, STARTED_OK): STARTED,
    (STARTING, ROLL_BACK): RECONCILING,
    (STARTED, START): SAME,
    (STARTED, COMPLETE): COMPLETING,
    (STARTED, CANCEL): CANCELLING,
    (STARTED, ROLL_BACK): RECONCILING,
    (COMPLETING, COMPLETE): SAME,
    (COMPLETING, SWITCHED): FINISHING,
    (COMPLETING, ROLL_BACK): RECONCILING,
    (FINISHING, COMPLETE): SAME,
    (FINISHING, COMPLETED_OK): COMPLETED,
    (COMPLETED, COMPLETE): SAME,
    (CANCELLING, CANCEL): SAME,
    (CANCELLING, CANCELLED_OK): CANCELLED,
    (CANCELLED, CANCEL): SAME,
    (RECONCILING, CANCEL): SAME,
    (RECONCILING, ROLL_BACK): SAME,
    (RECONCILING, ROLLED_BACK): ERROR,
    (ERROR, CANCEL): SAME,
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
