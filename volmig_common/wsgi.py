"""WSGI plumbing: the app factory both APIs use, and a threaded server."""

import json
import socketserver
import threading
from wsgiref import simple_server

from oslo_log import log as logging
import pecan
import webob
import webob.exc

from volmig_common import auth
from volmig_common import exception
from volmig_common import hooks

LOG = logging.getLogger(__name__)


def error_body(status, message):
    """The one JSON shape of every error either API returns."""
    return {'error': {'code': status,
                      'title': webob.exc.status_map[status].title,
                      'message': message}}


def _error_response(status, message):
    response = webob.Response(status=status, content_type='application/json',
                              charset='UTF-8')
    response.text = json.dumps(error_body(status, message))
    return response


def _message_of(response):
    """Pulls the human message out of whatever pecan or WSME produced."""
    try:
        body = json.loads(response.text)
    except ValueError:
        # webob's HTML/plain error pages: the explanation is enough.
        return webob.exc.status_map[response.status_code].explanation
    if isinstance(body, dict):
        if isinstance(body.get('error'), dict):
            return None  # already in our shape
        if 'faultstring' in body:
            return body['faultstring']
    return str(body)


# Headers an error response keeps when its body is rewritten.
_KEPT_HEADERS = ('openstack-api-version', 'vary', 'x-openstack')


def _rewrap(response, message):
    kept = [(k, v) for k, v in response.headerlist
            if k.lower().startswith(_KEPT_HEADERS)]
    rewrapped = _error_response(response.status_code, message)
    rewrapped.headerlist.extend(kept)
    return rewrapped


class JSONErrorMiddleware:
    """Makes every 4xx/5xx a JSON body of one shape; never a traceback."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        request = webob.Request(environ)
        try:
            response = request.get_response(self.app)
        except exception.VolmigException as e:
            response = _error_response(e.code, e.message)
        except Exception:
            LOG.exception('Unexpected error serving %s %s',
                          request.method, request.path)
            response = _error_response(500, 'Unexpected API error.')
        else:
            if response.status_code == 500:
                # Server-side details stay in the log (WSME logged them);
                # other 5xx come from our own exceptions and say why.
                response = _error_response(500, 'Unexpected API error.')
            elif response.status_code >= 400:
                message = _message_of(response)
                if message is not None:
                    response = _rewrap(response, message)
        return response(environ, start_response)


def make_app(conf, root, versions, extra_hooks=()):
    """A pecan app for ``root`` behind JSON errors and the configured auth."""
    app_hooks = [hooks.ConfigHook(conf), hooks.ContextHook(),
                 hooks.MicroversionHook(versions),
                 hooks.JSONObjectBodyHook()] + list(extra_hooks)
    app = pecan.make_app(root, hooks=app_hooks, force_canonical=False,
                         guess_content_type_from_ext=False)
    app = JSONErrorMiddleware(app)
    return auth.wrap(conf, app)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn,
                           simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, fmt, *args):
        LOG.debug('%s %s', self.address_string(), fmt % args)


class Server:
    """Serves one WSGI app from a thread; one thread per request."""

    def __init__(self, name, app, host, port):
        self.name = name
        self._httpd = simple_server.make_server(
            host, port, app, server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        name=name, daemon=True)

    @property
    def port(self):
        return self._httpd.server_address[1]

    def start(self):
        self._thread.start()
        LOG.info('%s listening on port %s', self.name, self.port)

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def wait(self):
        self._thread.join()
