"""The words of the volume-migration contract between Cinder and Nova.

Defined once: Nova's state table, Cinder's client of Nova, the
openstackclient plugin and the tests' fakes of Nova all use these, so that
none of them can drift from what Nova answers (``doc/api-ref.rst``).
"""

# os-volume-migrations exists from this compute microversion on.
MICROVERSION = '2.105'

# Statuses of Nova's record, keyed by the source attachment.
STARTING = 'starting'        # start accepted; writes not yet suspended
STARTED = 'started'          # no write reaches the source any more
COMPLETING = 'completing'    # complete accepted; the switch is under way
FINISHING = 'finishing'      # switched: the source is free; the guest's
                             # writes are being committed into the
                             # destination, retried until done
COMPLETED = 'completed'
CANCELLING = 'cancelling'    # going back to the source
CANCELLED = 'cancelled'
RECONCILING = 'reconciling'  # the outcome of a step is not known yet:
                             # Nova finds out (on retry, on start-up)
ERROR = 'error'              # failed and rolled back: the guest uses the
                             # source, with every write in it

STATUSES = (STARTING, STARTED, COMPLETING, FINISHING, COMPLETED, CANCELLING,
            CANCELLED, RECONCILING, ERROR)
FINAL = frozenset({COMPLETED, CANCELLED, ERROR})

# What each answer lets Cinder delete. No domain definition, live or
# persistent, names the source (or an overlay backed by it) once Nova says
# one of SOURCE_RELEASED; nor the destination once it says one of
# DESTINATION_RELEASED. Any other status: keep both, ask again later.
SOURCE_RELEASED = frozenset({FINISHING, COMPLETED})
DESTINATION_RELEASED = frozenset({CANCELLED, ERROR})

# Actions of POST /os-volume-migrations/{attachment_id}/action.
CANCEL = 'cancel'
COMPLETE = 'complete'
