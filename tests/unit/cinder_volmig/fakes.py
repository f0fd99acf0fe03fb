"""Fakes of what a migration talks to: Nova and the copy engine."""

import datetime
import json
import os
import re
import threading
import time
import types

import webob

from volmig_common import migration_contract as contract


def _now():
    return datetime.datetime.now(datetime.UTC).isoformat()


class FakeNova:
    """Nova's os-volume-migrations as the contract says.

    ``refuse_start`` (a message) makes start a 409, as Nova answers when
    it cannot suspend writes; ``on_complete(record)`` runs inside complete,
    where the real Nova connects the destination attachment.

    What Nova does in the background after it answers is a plan: the
    statuses a record takes after cancel (``cancel_plan``) or complete
    (``complete_plan``), the first one in the answer, each next one at the
    next show; the last one stays. ``set_status`` puts a record in any
    status (``reconciling``, say).
    """

    _ROOT = '/v2.1/os-volume-migrations'
    _HEADER = 'compute %s' % contract.MICROVERSION

    def __init__(self):
        self.records = {}
        self.calls = []
        self.refuse_start = None
        self.on_complete = None
        self.cancel_plan = (contract.CANCELLING, contract.CANCELLED)
        self.complete_plan = (contract.COMPLETED,)
        self._pending = {}
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        with self.lock:
            status, body = self._handle(request)
        response = webob.Response(status=status,
                                  content_type='application/json')
        if body is not None:
            response.text = json.dumps(body)
        return response(environ, start_response)

    def _handle(self, request):
        if request.headers.get('OpenStack-API-Version') != self._HEADER:
            return 404, _error(404, 'Unknown resource.')
        path = request.path
        body = request.json if request.body else None
        if path == self._ROOT and request.method == 'POST':
            return self._start(body['volume_migration']['attachment_id'])
        match = re.fullmatch(self._ROOT + r'/([^/]+)(/action)?', path)
        if match is None:
            return 404, _error(404, 'Unknown resource.')
        attachment_id = match.group(1)
        record = self.records.get(attachment_id)
        if record is None:
            return 404, _error(404, 'No such migration.')
        if request.method == 'GET' and not match.group(2):
            self.calls.append(('show', attachment_id))
            self._run_plan(record)
            return 200, {'volume_migration': dict(record)}
        if contract.COMPLETE in body:
            return self._complete(record, body[contract.COMPLETE])
        if contract.CANCEL in body:
            return self._cancel(record)
        return 400, _error(400, 'Unknown action.')

    def _start(self, attachment_id):
        self.calls.append(('start', attachment_id))
        if self.refuse_start:
            return 409, _error(409, self.refuse_start)
        record = self.records.get(attachment_id)
        if record is None or record['status'] in contract.FINAL:
            self._pending.pop(attachment_id, None)
            record = self.records[attachment_id] = {
                'attachment_id': attachment_id, 'new_attachment_id': None,
                'server_id': None, 'volume_id': None, 'mode': 'live',
                'status': contract.STARTED, 'progress': 0, 'error': None,
                'created_at': _now(), 'updated_at': _now()}
        elif record['status'] != contract.STARTED:
            return 409, _error(409, 'Migration is %s.' % record['status'])
        return 200, {'volume_migration': dict(record)}

    def _cancel(self, record):
        self.calls.append(('cancel', record['attachment_id']))
        if record['status'] == contract.STARTED:
            self._begin_plan(record, self.cancel_plan)
        elif record['status'] not in (contract.CANCELLING,
                                      contract.CANCELLED):
            return 409, _error(409, 'Migration is %s.' % record['status'])
        return 202, None

    def _complete(self, record, spec):
        self.calls.append(('complete', record['attachment_id'],
                           spec['new_attachment_id']))
        repeated = (record['status'] in (contract.COMPLETING,
                                         contract.FINISHING,
                                         contract.COMPLETED)
                    and record['new_attachment_id']
                    == spec['new_attachment_id'])
        if record['status'] != contract.STARTED and not repeated:
            return 409, _error(409, 'Migration is %s.' % record['status'])
        if record['status'] in contract.SOURCE_RELEASED:
            return 200, {'volume_migration': dict(record)}
        record['new_attachment_id'] = spec['new_attachment_id']
        if self.on_complete is not None:
            self.on_complete(record)
        self._begin_plan(record, self.complete_plan)
        return 200, {'volume_migration': dict(record)}

    def _begin_plan(self, record, plan):
        first, *rest = plan
        self._set(record, first)
        self._pending[record['attachment_id']] = rest

    def _run_plan(self, record):
        pending = self._pending.get(record['attachment_id'])
        if pending:
            self._set(record, pending.pop(0))

    def set_status(self, attachment_id, status):
        """Puts a record in ``status``, dropping what its plan had left."""
        self._pending.pop(attachment_id, None)
        self._set(self.records[attachment_id], status)

    @staticmethod
    def _set(record, status):
        record['status'] = status
        record['updated_at'] = _now()

    def names(self):
        return [call[0] for call in self.calls]


def _error(code, message):
    return {'error': {'code': code, 'message': message}}


class FakeCopy:
    """copy_volume's signature; copies for real, in 1 MiB chunks.

    ``fail`` (an OSError) is raised half way; ``gate`` (an Event), when
    set, is waited for before each chunk, so tests can watch a migration
    in the middle of its copy.
    """

    CHUNK = 1024 * 1024

    def __init__(self):
        self.calls = []
        self.fail = None
        self.gate = None
        self.delay = 0

    def __call__(self, src_path, dst_path, *, progress=None,
                 bandwidth_limit=None):
        self.calls.append((src_path, dst_path, bandwidth_limit))
        started = time.monotonic()
        with open(src_path, 'rb') as src, open(dst_path, 'r+b') as dst:
            total = os.fstat(src.fileno()).st_size
            done = 0
            while done < total:
                if self.gate is not None:
                    self.gate.wait(10)
                if self.fail is not None and done >= total // 2:
                    raise self.fail
                length = min(self.CHUNK, total - done)
                if _has_data(src, done, length):
                    src.seek(done)
                    dst.seek(done)
                    dst.write(src.read(length))
                done += length
                if progress is not None:
                    progress(done, total)
                time.sleep(self.delay)
        return types.SimpleNamespace(method='fake', bytes_copied=total,
                                     seconds=time.monotonic() - started)


def _has_data(f, offset, length):
    try:
        return os.lseek(f.fileno(), offset, os.SEEK_DATA) < offset + length
    except OSError:  # ENXIO: only a hole after offset
        return False
