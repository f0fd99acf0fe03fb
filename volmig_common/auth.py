"""Authentication middleware selection: keystone or noauth."""

from keystonemiddleware import auth_token
from oslo_config import cfg

auth_opts = [
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'Validate tokens with Keystone.'),
                        ('noauth', 'Trust the caller; every request is an '
                                   'admin. For tests and the embedded '
                                   'default only.')],
               help='How API requests are authenticated.'),
]


class NoAuthMiddleware:
    """Accepts any caller as an admin.

    The token may be ``user:project`` (what python-cinderclient's noauth
    plugin sends); otherwise ``X-User-Id``/``X-Project-Id`` are used, and
    ``admin`` where both are missing.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        token = environ.get('HTTP_X_AUTH_TOKEN', '')
        user, _, project = token.partition(':')
        user = user or environ.get('HTTP_X_USER_ID') or 'admin'
        project = project or environ.get('HTTP_X_PROJECT_ID') or user
        environ.update({
            'HTTP_X_IDENTITY_STATUS': 'Confirmed',
            'HTTP_X_USER_ID': user,
            'HTTP_X_PROJECT_ID': project,
            'HTTP_X_ROLES': 'admin,member,reader',
        })
        return self.app(environ, start_response)


def wrap(conf, app):
    if conf.auth_strategy == 'noauth':
        return NoAuthMiddleware(app)
    return auth_token.AuthProtocol(app, {'oslo_config_config': conf})
