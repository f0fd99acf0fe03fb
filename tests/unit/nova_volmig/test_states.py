"""The action table, checked for every vm_state and task_state."""

import itertools

import pytest

from nova_volmig import exception
from nova_volmig.compute import states
from nova_volmig.db import api as db_api

VM_STATES = [states.ACTIVE, states.BUILDING, states.STOPPED, states.ERROR]
TASK_STATES = [None, states.SCHEDULING, states.SPAWNING,
               states.POWERING_OFF, states.POWERING_ON, states.REBOOTING,
               states.REBOOTING_HARD, states.DELETING,
               states.ATTACHING_VOLUME, states.DETACHING_VOLUME]


def _allowed(action, vm_state, task_state):
    rule = states.ACTIONS[action]
    return vm_state in rule.vm_states and task_state in rule.from_task_states


@pytest.mark.parametrize('action', sorted(states.ACTIONS))
def test_begin_action(conf, admin_context, action):
    for vm_state, task_state in itertools.product(VM_STATES, TASK_STATES):
        instance = db_api.instance_create(admin_context, {
            'name': 'x', 'project_id': 'p', 'user_id': 'u',
            'image_ref': 'i', 'flavor_name': 'f', 'memory_mb': 1,
            'vcpus': 1, 'vm_state': vm_state, 'task_state': task_state})
        expected = _allowed(action, vm_state, task_state)
        try:
            db_api.instance_begin_action(admin_context, instance['uuid'],
                                         action)
        except exception.InstanceInvalidState:
            assert not expected, (vm_state, task_state)
            after = db_api.instance_get(admin_context, instance['uuid'])
            assert after['task_state'] == task_state
        else:
            assert expected, (vm_state, task_state)
            after = db_api.instance_get(admin_context, instance['uuid'])
            assert after['task_state'] == states.ACTIONS[action].task_state


def test_only_one_of_two_claims_wins(conf, admin_context):
    instance = db_api.instance_create(admin_context, {
        'name': 'x', 'project_id': 'p', 'user_id': 'u', 'image_ref': 'i',
        'flavor_name': 'f', 'memory_mb': 1, 'vcpus': 1,
        'vm_state': states.ACTIVE, 'task_state': None})
    db_api.instance_begin_action(admin_context, instance['uuid'], 'stop')
    with pytest.raises(exception.InstanceInvalidState):
        db_api.instance_begin_action(admin_context, instance['uuid'],
                                     'attach_volume')


@pytest.mark.parametrize('vm_state,task_state,status', [
    (states.ACTIVE, None, 'ACTIVE'),
    (states.ACTIVE, states.REBOOTING, 'REBOOT'),
    (states.ACTIVE, states.REBOOTING_HARD, 'HARD_REBOOT'),
    (states.ACTIVE, states.POWERING_OFF, 'ACTIVE'),
    (states.BUILDING, states.SPAWNING, 'BUILD'),
    (states.STOPPED, None, 'SHUTOFF'),
    (states.STOPPED, states.POWERING_ON, 'SHUTOFF'),
    (states.ERROR, None, 'ERROR'),
    (states.DELETED, None, 'DELETED'),
])
def test_status(vm_state, task_state, status):
    assert states.status(vm_state, task_state) == status
