import pytest

# Helpers of the functional tests assert too: show what failed.
pytest.register_assert_rewrite('tests.functional.deployment',
                               'tests.functional.guest_records',
                               'tests.functional.volumes')

MEASUREMENT = 'measurement'


@pytest.fixture
def report(request):
    """Lines for the end of the run: measurements, never assertions.

    Kept as user properties so that they reach the controller of a
    parallel (pytest-xdist) run.
    """
    return lambda line: request.node.user_properties.append(
        (MEASUREMENT, line))


def pytest_terminal_summary(terminalreporter):
    lines = [value
             for outcome in ('passed', 'failed')
             for report in terminalreporter.stats.get(outcome, [])
             for key, value in getattr(report, 'user_properties', ())
             if key == MEASUREMENT]
    if lines:
        terminalreporter.section('measurements')
        for line in lines:
            terminalreporter.write_line(line)
