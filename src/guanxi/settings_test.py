"""Test settings: fast hashing, plain static storage, SQLite test DB as a file."""

import os

os.environ.setdefault("GUANXI_HOME", os.path.join(os.getcwd(), "var", "test"))

from guanxi.settings import *  # noqa: E402,F403
from guanxi.settings import DATABASES, GUANXI_HOME, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so subprocess tests (serve, worker) see the same database.
    DATABASES["default"]["TEST"] = {"NAME": str(GUANXI_HOME / "test.sqlite3")}
AXES_ENABLED = True
# Serve static files straight from the apps (no collectstatic before tests).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
