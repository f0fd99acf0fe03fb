"""Instance states as Nova names them, and which action may run when.

Everything that decides whether an action may start lives in ``ACTIONS``:
the vm_states it needs and the task_state it sets while it runs.  An action
never starts while another one holds a task_state.
"""

# vm_state: what the instance is, stable between actions.
ACTIVE = 'active'
BUILDING = 'building'
STOPPED = 'stopped'
ERROR = 'error'
DELETED = 'deleted'

# task_state: which action is running.
SCHEDULING = 'scheduling'
SPAWNING = 'spawning'
POWERING_OFF = 'powering-off'
POWERING_ON = 'powering-on'
REBOOTING = 'rebooting'
REBOOTING_HARD = 'rebooting_hard'
DELETING = 'deleting'
ATTACHING_VOLUME = 'attaching_volume'
DETACHING_VOLUME = 'detaching_volume'
# Held from a volume migration's start until it is completed or cancelled.
MIGRATING_VOLUME = 'migrating_volume'

# power_state: what the hypervisor says (Nova's numbers).
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7


class Action:
    def __init__(self, vm_states, task_state, allow_build_tasks=False):
        self.vm_states = frozenset(vm_states)
        self.task_state = task_state
        # Tasks this action may interrupt: only delete may stop a build.
        self.from_task_states = ((None, SCHEDULING, SPAWNING)
                                 if allow_build_tasks else (None,))


ACTIONS = {
    'start': Action({STOPPED}, POWERING_ON),
    'stop': Action({ACTIVE, ERROR}, POWERING_OFF),
    'reboot': Action({ACTIVE}, REBOOTING),
    'reboot_hard': Action({ACTIVE, STOPPED, ERROR}, REBOOTING_HARD),
    'delete': Action({ACTIVE, BUILDING, STOPPED, ERROR}, DELETING,
                     allow_build_tasks=True),
    'attach_volume': Action({ACTIVE, STOPPED}, ATTACHING_VOLUME),
    'detach_volume': Action({ACTIVE, STOPPED}, DETACHING_VOLUME),
    'migrate_volume': Action({ACTIVE, STOPPED}, MIGRATING_VOLUME),
}

# (vm_state, task_state) -> API status; task None is the vm_state's own.
_STATUS = {
    (ACTIVE, None): 'ACTIVE',
    (ACTIVE, REBOOTING): 'REBOOT',
    (ACTIVE, REBOOTING_HARD): 'HARD_REBOOT',
    (BUILDING, None): 'BUILD',
    (STOPPED, None): 'SHUTOFF',
    (STOPPED, REBOOTING_HARD): 'HARD_REBOOT',
    (ERROR, None): 'ERROR',
    (DELETED, None): 'DELETED',
}


def status(vm_state, task_state):
    """The ``status`` of a server as the compute API shows it."""
    return _STATUS.get((vm_state, task_state),
                       _STATUS.get((vm_state, None), 'UNKNOWN'))
