"""How long a writing guest pauses during a live volume migration.

Runs the embedded default with the test guest, then migrates its volume
live several times (start, copy, complete), timing the longest gap between
two acknowledged guest writes in each phase, next to the longest gap of
the same guest writing undisturbed just before. Prints a table; run as
root on a machine prepared by tools/install.sh (tools/run-tests.sh):

    .venv/bin/python -m benchmarks.live_migration_pauses --runs 5
"""

import argparse
import shutil
import statistics
import tempfile
import time

from tests.functional import deployment as deployment_mod

PHASES = ('undisturbed', 'start', 'complete', 'final pivot')


def _one_run(d, run):
    server = d.boot_server('bench-%d' % run)['id']
    volume = d.create_volume(size=1)
    attachment, source = d.attach(server, volume['id'])
    destination_volume = d.create_volume(size=1)
    destination = d.volume_path(destination_volume)
    new_attachment = d.new_attachment(destination_volume['id'], server)
    d.wait_acks(server, 100)
    with deployment_mod.AckMonitor(d.console_file(server)) as monitor:
        t_quiet = time.monotonic()
        d.wait_acks(server, 200)
        t0 = time.monotonic()
        assert d.start_migration(attachment).status_code == 200
        t1 = time.monotonic()
        shutil.copyfile(source, destination)
        d.wait_acks(server, 100)
        t2 = time.monotonic()
        assert d.complete_migration(attachment,
                                    new_attachment).status_code == 200
        t3 = time.monotonic()
        d.wait_migration(attachment, 'completed')
        t4 = time.monotonic()
    # A new guest for each run: nothing plays Cinder's part after
    # complete here, so the volume is left as it is.
    assert d.compute.delete('/servers/%s' % server).status_code == 204
    return (monitor.longest_gap(t_quiet, t0), monitor.longest_gap(t0, t1),
            monitor.longest_gap(t2, t3), monitor.longest_gap(t3, t4))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--runs', type=int, default=5)
    args = parser.parse_args()

    deployment_mod.run_tool('start-libvirtd.sh')
    with tempfile.TemporaryDirectory() as tmp:
        image = tmp + '/image'
        deployment_mod.run_tool('build-guest-image.sh', image)
        with deployment_mod.Deployment(tmp + '/state', image) as d:
            runs = [_one_run(d, run) for run in range(args.runs)]

    print('Longest gap between acknowledged guest writes (seconds), '
          '%d live migrations' % len(runs))
    print('%-12s %8s %8s %8s %10s' % ('phase', 'median', 'max', 'min',
                                      'x quiet'))
    quiet = statistics.median(r[0] for r in runs)
    for i, phase in enumerate(PHASES):
        values = [r[i] for r in runs]
        print('%-12s %8.3f %8.3f %8.3f %10.1f' % (
            phase, statistics.median(values), max(values), min(values),
            statistics.median(values) / quiet))


if __name__ == '__main__':
    main()
