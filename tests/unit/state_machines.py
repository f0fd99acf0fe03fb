"""What the state-table tests of both services share."""

import collections


def reachable(start, successors):
    """Every state reachable from ``start``, itself included, where
    ``successors(state)`` names the states one step away."""
    seen = {start}
    queue = collections.deque(seen)
    while queue:
        for successor in successors(queue.popleft()):
            if successor not in seen:
                seen.add(successor)
                queue.append(successor)
    return seen
