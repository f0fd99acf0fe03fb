"""The steps of a volume migration: everything that moves one is here.

A migration row's ``step`` changes only along ``TABLE`` and only through
``check`` (the database layer calls it before every step change), so a
step the table does not list as a successor is refused. Each step is
written before the side effect it names, and every side effect is
idempotent: a restarted service runs the recorded step again.

The names are persisted: existing rows hold them, so they never change.
"""

import typing

from cinder_volmig import exception

STARTING = 'starting'  # the API accepted the migration
# The destination's id is chosen; its row and data may exist.
CREATING_DESTINATION = 'creating_destination'
# In-use only: the destination attachment's id is chosen.
ATTACHING = 'attaching'
SUSPENDING = 'suspending'  # Nova's start may have been called
COPYING = 'copying'
COMPLETING = 'completing'  # Nova's complete may have been called
SWAPPING = 'swapping'  # Nova no longer uses the source
# The volume already points at the destination's data.
DELETING_SOURCE = 'deleting_source'
SUCCESS = 'success'
# Undoing: Nova's cancel, then the destination removed.
ROLLING_BACK = 'rolling_back'
ERROR = 'error'


class Step(typing.NamedTuple):
    # The steps it may move to, the usual one first.
    successors: tuple
    # Where a failure of its handler leads; None: the migration stays at
    # this step and a later run retries it.
    on_failure: str | None
    # Nova writes the destination: the only way is forward.
    past_return: bool = False


TABLE = {
    # ERROR: the API's, when the volume service never got the migration.
    STARTING: Step((CREATING_DESTINATION, ERROR), ROLLING_BACK),
    # A detached volume needs no attachment and no Nova.
    CREATING_DESTINATION: Step((ATTACHING, COPYING), ROLLING_BACK),
    ATTACHING: Step((SUSPENDING,), ROLLING_BACK),
    SUSPENDING: Step((COPYING,), ROLLING_BACK),
    COPYING: Step((COMPLETING,), ROLLING_BACK),
    COMPLETING: Step((SWAPPING,), ROLLING_BACK),
    SWAPPING: Step((DELETING_SOURCE,), None, past_return=True),
    DELETING_SOURCE: Step((SUCCESS,), None, past_return=True),
    SUCCESS: Step((), None, past_return=True),
    # SWAPPING: Nova switched already; COMPLETING: Nova is switching, so
    # complete is asked for again.
    ROLLING_BACK: Step((ERROR, SWAPPING, COMPLETING), None),
    ERROR: Step((), None),
}

# The steps at which Nova may be switching to the destination, once the
# migration asked it to complete (nova_complete_requested): completing,
# and the rolling back a failed complete call leads to (Nova's 503 while
# its switch goes on), which goes back to completing when Nova says it
# is completing. Nova may update and complete the destination attachment
# at these steps only; at any other, an attachment of a migrating volume
# is the migration's alone.
NOVA_SWITCHING = (COMPLETING, ROLLING_BACK)

STEPS = tuple(TABLE)
FINAL = frozenset(step for step, row in TABLE.items() if not row.successors)
PAST_RETURN = frozenset(step for step, row in TABLE.items()
                        if row.past_return)


def check(step, next_step):
    """Raises InvalidMigrationStep unless the table lets a migration go
    from ``step`` to ``next_step``: forward, or where its failure goes."""
    row = TABLE.get(step)
    if row is None or next_step is None or next_step not in (
            *row.successors, row.on_failure):
        raise exception.InvalidMigrationStep(step=step, next_step=next_step)


def on_failure(step):
    """The step a failure at ``step`` leads to, or None: stay, retry."""
    return TABLE[step].on_failure
