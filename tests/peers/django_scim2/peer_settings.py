"""Settings of the smallest Django project that serves SCIM with django-scim2 (PyPI), as its README sets it up:
its user and group mixins on the project's own models, its URLs under /scim/v2/, its auth-check middleware.
The database name, port and bearer token come from the environment set by serve.py."""

from __future__ import annotations

import os

SECRET_KEY = "peer-test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_scim", "peer_app"]
AUTH_USER_MODEL = "peer_app.User"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["PEER_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
ROOT_URLCONF = "peer_app.urls"
MIDDLEWARE = ["peer_app.auth.BearerTokenMiddleware", "django_scim.middleware.SCIMAuthCheckMiddleware"]
SCIM_SERVICE_PROVIDER = {
    "NETLOC": f"127.0.0.1:{os.environ['PEER_PORT']}",
    "SCHEME": "http",
    "GROUP_MODEL": "peer_app.models.Group",
    "GROUP_FILTER_PARSER": "peer_app.filters.GroupFilterQuery",
    "AUTHENTICATION_SCHEMES": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                "description": "Authentication with a bearer token"}],
}
LOGGING = {"version": 1, "disable_existing_loggers": True}
# Django's own advice for test settings: a fast hasher, or every synced password costs a second of PBKDF2.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
