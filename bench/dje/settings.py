"""The smallest Django project that runs django-import-export's import on the benchmark's
customer workbook (bench/import_speed.py). Not the portal: a competitor set up as its docs say.

The database comes from the environment: ``DJE_DATABASE=sqlite:////path/file.db`` or
``DJE_DATABASE=postgresql://postgres@127.0.0.1:5432/name``.
"""
import os
from urllib.parse import urlsplit

SECRET_KEY = "bench-dje-not-secret"
DEBUG = False  # DEBUG=True would keep every SQL statement in memory
USE_TZ = False
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "import_export", "customers"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _database(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": parts.path[1:] if parts.path.startswith("//") else parts.path}
    return {"ENGINE": "django.db.backends.postgresql", "NAME": parts.path.lstrip("/"), "USER": parts.username or "postgres",
            "PASSWORD": parts.password or "", "HOST": parts.hostname or "127.0.0.1", "PORT": str(parts.port or 5432)}


DATABASES = {"default": _database(os.environ.get("DJE_DATABASE", "sqlite:////tmp/dje-bench.db"))}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
