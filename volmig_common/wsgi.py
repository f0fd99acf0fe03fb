"""WSGI plumbing both APIs use: the pecan app factory, the JSON error
middleware, loading the pipeline from the API's paste file, and a threaded
server."""

import json
import socketserver
import threading
from wsgiref import simple_server

from oslo_log import log as logging
from paste.deploy import loadwsgi
import pecan
import webob
import webob.exc

from volmig_common import config
from volmig_common import exception
from volmig_common import hooks

LOG = logging.getLogger(__name__)

# The paste global_conf key of the service's ConfigOpts: the name
# keystonemiddleware's auth_token reads its options object from.
CONF_KEY = 'oslo_config_config'


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

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """``paste.filter_factory``."""
        return cls

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
    """The pecan app for ``root``; the paste pipeline puts the JSON errors
    and the authentication in front of it."""
    app_hooks = [hooks.ConfigHook(conf), hooks.ContextHook(),
                 hooks.MicroversionHook(versions),
                 hooks.JSONObjectBodyHook()] + list(extra_hooks)
    return pecan.make_app(root, hooks=app_hooks, force_canonical=False,
                          guess_content_type_from_ext=False)


def pipeline_factory(loader, global_conf, **local_conf):
    """Paste composite: the pipeline named by ``auth_strategy``; with a
    ``public`` pipeline, that one serves the ``public_paths``."""
    conf = global_conf[CONF_KEY]
    try:
        *filters, app_name = local_conf[conf.auth_strategy].split()
    except KeyError:
        raise ValueError('%s has no %s pipeline' % (
            global_conf['__file__'], conf.auth_strategy)) from None
    app = loader.get_app(app_name, global_conf=global_conf)

    def wrapped(names):
        wrapped_app = app
        for name in reversed(names):
            wrapped_app = loader.get_filter(
                name, global_conf=global_conf)(wrapped_app)
        return wrapped_app

    if 'public' not in local_conf:
        return wrapped(filters)
    *public_filters, public_app = local_conf['public'].split()
    if public_app != app_name:
        # One API instance behind both pipelines.
        raise ValueError('%s: the public pipeline ends in %s, not %s' % (
            global_conf['__file__'], public_app, app_name))
    return PublicPaths(wrapped(filters), wrapped(public_filters),
                       local_conf['public_paths'].split())


class PublicPaths:
    """Serves GETs of a few paths (the version documents) without
    authentication, as Nova and Cinder do: clients discover versions and
    load balancers check the API before any token exists."""

    def __init__(self, app, public_app, paths):
        self.app = app
        self.public_app = public_app
        self.paths = {path.rstrip('/') for path in paths}

    def __call__(self, environ, start_response):
        if (environ['REQUEST_METHOD'] in ('GET', 'HEAD')
                and environ.get('PATH_INFO', '').rstrip('/') in self.paths):
            # No identity is taken from the caller on this path.
            for key in [k for k in environ if k.startswith('HTTP_X_')]:
                del environ[key]
            return self.public_app(environ, start_response)
        return self.app(environ, start_response)


def load_app(conf, name):
    """The API's WSGI app: composite ``name`` of the API's paste file."""
    path = config.find_paste_config(conf)
    LOG.info('Loading %s from %s (%s pipeline)', name, path,
             conf.auth_strategy)
    # paste.deploy.loadapp() would add global_conf to the file's defaults,
    # which configparser interpolates as strings: the ConfigOpts object
    # reaches the factories only when handed to the loader directly.
    return loadwsgi.ConfigLoader(path).get_app(name,
                                               global_conf={CONF_KEY: conf})


def application_from_environ(conf, project, init_service, load_app):
    """An API's WSGI application for a WSGI server, which passes no
    command line: config files from the environment
    (``config.parse_environ``), the service set up as its console script
    does, the app built from the paste file."""
    config.parse_environ(conf, project)
    init_service(conf)
    return load_app(conf)


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
