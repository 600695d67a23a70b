"""Portal settings. Every value comes from an environment variable with a safe default.

Flask-AppBuilder reads its options from the Flask config; the names it expects are kept
(``AUTH_TYPE``, ``FAB_*``, ``BABEL_*``) so its documentation applies as written.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PORTAL_INSTANCE_DIR", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/.

    Never a constant in the code: a leaked default key would let anyone forge sessions.
    """
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    key_file = INSTANCE_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the old driver; the portal ships psycopg 3.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url[len("postgres://"):]
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        return url
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{INSTANCE_DIR / 'portal.db'}"


SECRET_KEY = _secret_key()
SQLALCHEMY_DATABASE_URI = _database_url()
SQLALCHEMY_TRACK_MODIFICATIONS = False
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

APP_NAME = os.environ.get("PORTAL_APP_NAME", "客户档案管理")
APP_THEME = ""
APP_ICON = ""

# Customer numbers: {yyyy} {yy} {mm} are today's date, {seq:0Nd} a counter that restarts
# whenever the rendered prefix changes (so KH{yyyy}{seq:05d} restarts every year).
CUSTOMER_NUMBER_PATTERN = os.environ.get("CUSTOMER_NUMBER_PATTERN", "KH{yyyy}{seq:05d}")
TRANSACTION_NUMBER_PATTERN = os.environ.get("TRANSACTION_NUMBER_PATTERN", "JY{yyyy}{mm}{seq:05d}")

# Authentication: the portal's own user table (AUTH_DB); no self-registration.
AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False
AUTH_ROLE_ADMIN = "Admin"
AUTH_ROLE_PUBLIC = "Public"
FAB_PASSWORD_HASH_METHOD = "scrypt"

# Schema and permissions are changed by `flask db upgrade` and `flask portal init`,
# never as a side effect of starting a web worker.
FAB_CREATE_DB = False
FAB_UPDATE_PERMS = _bool("FAB_UPDATE_PERMS", False)
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = _bool("FAB_API_SWAGGER_UI", False)
FAB_API_MAX_PAGE_SIZE = _int("FAB_API_MAX_PAGE_SIZE", 200)
FAB_INDEX_VIEW = "portal.views.home.HomeView"
FAB_BASE_TEMPLATE = "portal/base.html"

# Languages: Chinese first; English is complete and one click away.
BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_CN")
BABEL_DEFAULT_TIMEZONE = os.environ.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "portal" / "translations")
LANGUAGES = {
    "zh_CN": {"flag": "cn", "name": "中文"},
    "en": {"flag": "gb", "name": "English"},
}

WTF_CSRF_ENABLED = _bool("WTF_CSRF_ENABLED", True)
WTF_CSRF_TIME_LIMIT = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)

MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_MB", 50) * 1024 * 1024
PAGE_SIZE = _int("PORTAL_PAGE_SIZE", 25)
