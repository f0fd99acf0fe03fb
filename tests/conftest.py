import shutil
import threading

import pytest

from tests.functional import guests

# Helpers of the functional tests assert too: show what failed.
pytest.register_assert_rewrite('tests.functional.deployment',
                               'tests.functional.guest_records',
                               'tests.functional.volumes')

MEASUREMENT = 'measurement'
GUEST_SAMPLE_INTERVAL = 0.25


@pytest.fixture
def report(request):
    """Lines for the end of the run: measurements, never assertions.

    Kept as user properties so that they reach the controller of a
    parallel (pytest-xdist) run.
    """
    return lambda line: request.node.user_properties.append(
        (MEASUREMENT, line))


def pytest_collection_modifyitems(items):
    """Orders the test files so that those without guests (the unit tests,
    mostly waiting on threads) are spread evenly among those with: the
    workers (--dist load) that the guest budget leaves idle take them,
    instead of finding them all at the end of the queue."""
    files = {}
    for item in items:
        files.setdefault(item.nodeid.split('::')[0], []).append(item)
    functional = [f for f in files if f.startswith('tests/functional/')]
    other = [f for f in files if not f.startswith('tests/functional/')]
    order = []
    for index, name in enumerate(functional):
        order.append(name)
        order.extend(other[index * len(other) // len(functional):
                           (index + 1) * len(other) // len(functional)])
    if not functional:
        order = other
    items[:] = [item for name in order for item in files[name]]


class GuestCensus:
    """What the run cost in guests: the most alive at once on the machine
    (sampled), and the domains the run left behind: those still defined
    at its end that name a file under its temporary directory (each
    xdist worker's is a subdirectory of the controller's)."""

    def __init__(self, config):
        self._config = config
        self.peak = 0
        self.left = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(GUEST_SAMPLE_INTERVAL):
            self.peak = max(self.peak, guests.count_running())

    def finish(self):
        self._stop.set()
        self._thread.join()
        if shutil.which('virsh'):
            basetemp = str(self._config._tmp_path_factory.getbasetemp())
            self.left = sorted(name for name in guests.domains()
                               if basetemp in guests.definition(name))


_census = pytest.StashKey[GuestCensus]()


def pytest_configure(config):
    # Once per run: in the controller of a parallel run, not its workers.
    if not hasattr(config, 'workerinput'):
        config.stash[_census] = GuestCensus(config)


def pytest_sessionfinish(session):
    census = session.config.stash.get(_census, None)
    if census is None:
        return
    census.finish()
    if census.left:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, config):
    lines = [value
             for outcome in ('passed', 'failed')
             for report in terminalreporter.stats.get(outcome, [])
             for key, value in getattr(report, 'user_properties', ())
             if key == MEASUREMENT]
    if lines:
        terminalreporter.section('measurements')
        for line in lines:
            terminalreporter.write_line(line)
    census = config.stash.get(_census, None)
    if census is not None:
        terminalreporter.section('guests')
        terminalreporter.write_line(
            'peak guests alive at once: %d (budget %d)'
            % (census.peak, guests.MAX_GUESTS))
        if census.left:
            terminalreporter.write_line(
                'FAILED: domains the run left behind: %s'
                % ' '.join(census.left), red=True)
