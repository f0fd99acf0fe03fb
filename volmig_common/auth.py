"""Authentication: the ``auth_strategy`` option and the noauth middleware.

The API's paste file (api-paste.ini) has a pipeline per strategy; the
``keystone`` one runs keystonemiddleware's ``auth_token``.
"""

from oslo_config import cfg

auth_opts = [
    cfg.StrOpt('auth_strategy', default='keystone',
               choices=[('keystone', 'Validate tokens with Keystone.'),
                        ('noauth', 'Trust the caller; every request is an '
                                   'admin. For tests and the embedded '
                                   'default only.')],
               help='How API requests are authenticated: the pipeline of '
                    'the API\'s paste file (api_paste_config) to run.'),
]


class NoAuthMiddleware:
    """Accepts any caller as an admin.

    The token may be ``user:project`` (what python-cinderclient's noauth
    plugin sends); otherwise ``X-User-Id``/``X-Project-Id`` are used, and
    ``admin`` where both are missing.
    """

    def __init__(self, app):
        self.app = app

    @classmethod
    def factory(cls, global_conf, **local_conf):
        """``paste.filter_factory``."""
        return cls

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
