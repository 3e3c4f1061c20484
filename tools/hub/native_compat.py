"""NativeAuthenticator 1.3.0 on JupyterHub 6: the one-line incompatibility, worked around.

nativeauthenticator 1.3.0 (the newest release) times each form login with ``self.statsd``, which
JupyterHub 6 removed from its handlers: every POST to /hub/login then fails with HTTP 500
(``AttributeError: 'LoginHandler' object has no attribute 'statsd'``; measured, and shown by
tests/test_hub.py, which logs in through the form). The REST API login (a token for user name + password)
is not affected. This subclass gives the login page a do-nothing timer; everything else is
NativeAuthenticator's own (its ``c.NativeAuthenticator.*`` settings apply unchanged).
Delete this file once a nativeauthenticator release supports JupyterHub 6.
"""
from nativeauthenticator import NativeAuthenticator
from nativeauthenticator import handlers as native_handlers


class _NoTimer:
    def start(self):
        return self

    def stop(self, send=True):
        pass


class _NoStatsd:
    def timer(self, name):
        return _NoTimer()


class LoginHandler(native_handlers.LoginHandler):
    statsd = _NoStatsd()


class CourseNativeAuthenticator(NativeAuthenticator):
    """NativeAuthenticator with a login page that works on JupyterHub 6."""

    def get_handlers(self, app):
        return [(path, LoginHandler if handler is native_handlers.LoginHandler else handler)
                for path, handler in super().get_handlers(app)]
