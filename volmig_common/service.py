"""Running services as threads until SIGTERM/SIGINT."""

import signal
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class RPCService:
    """An oslo.messaging RPC server for a manager, plus its periodic task."""

    def __init__(self, name, server, periodic=None, interval=10):
        self.name = name
        self.server = server
        self._periodic = periodic
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = None

    def start(self):
        self.server.start()
        if self._periodic is not None:
            self._thread = threading.Thread(target=self._run_periodic,
                                            name=self.name + '-periodic',
                                            daemon=True)
            self._thread.start()
        LOG.info('%s started', self.name)

    def _run_periodic(self):
        while not self._stopping.is_set():
            try:
                self._periodic()
            except Exception:
                LOG.exception('%s: periodic task failed', self.name)
            self._stopping.wait(self._interval)

    def stop(self):
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        self.server.stop()
        self.server.wait()
        LOG.info('%s stopped', self.name)


def run(services, on_started=None):
    """Starts ``services`` and blocks until the process is told to stop."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    for service in services:
        service.start()
    if on_started is not None:
        on_started()
    stop.wait()
    for service in reversed(services):
        service.stop()
