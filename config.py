"""Portal settings. Every value comes from an environment variable with a safe default.

Flask-AppBuilder reads its options from the Flask config; the names it expects are kept
(``AUTH_TYPE``, ``FAB_*``, ``BABEL_*``) so its documentation applies as written.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask_appbuilder.const import AUTH_DB
from flask_babel import lazy_gettext

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

# The name in the navbar and the window's title: the company's own (PORTAL_APP_NAME) as it is,
# else the portal's, in the user's language.
APP_NAME = os.environ.get("PORTAL_APP_NAME") or lazy_gettext("Customer archive management")
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
# FAB's file columns (none yet) keep their files here; its /download/<file> route reads it.
UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
IMG_UPLOAD_FOLDER = str(INSTANCE_DIR / "uploads")
PAGE_SIZE = _int("PORTAL_PAGE_SIZE", 25)

# Backups (flask portal backup) read BACKUP_DIR (default instance/backups) and BACKUP_KEEP
# (default 10 generations) from the environment: portal/cli_backup.py.
# Number of reverse proxies in front of the portal (0: none). Set it behind nginx so the
# client's IP reaches the access log and the login rate limit.
PROXY_FIX_HOPS = _int("PROXY_FIX_HOPS", 0)
# Access log retention; never less than 3 years (PIPL art. 56), whatever is set here.
ACCESS_LOG_RETENTION_DAYS = _int("ACCESS_LOG_RETENTION_DAYS", 3 * 366)
# How long imports keep their staged rows and files, and grid edits their undo data, before
# `flask portal prune-batches` removes them (never under 7 days): portal/excel/retention.py.
IMPORT_RETENTION_DAYS = _int("IMPORT_RETENTION_DAYS", 90)
GRID_BATCH_RETENTION_DAYS = _int("GRID_BATCH_RETENTION_DAYS", 90)

# -- hardening -----------------------------------------------------------------------------
# (security headers, CSP nonce and CSRF protection of every post: portal/security/headers.py)
from datetime import timedelta  # noqa: E402

from portal.security.passwords import password_complexity  # noqa: E402

# Sessions: Flask refuses a signed session cookie this long after it was last written
# (Flask-AppBuilder rewrites it on most page views, so this is an idle timeout); the cookie
# itself ends with the browser session. SESSION_HOURS may be fractional (0.5 = 30 minutes).
PERMANENT_SESSION_LIFETIME = timedelta(hours=float(os.environ.get("SESSION_HOURS") or 8))
# Flask-Login's remember-me cookie (FAB's login does not set it; kept as strict as the session).
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
REMEMBER_COOKIE_DURATION = PERMANENT_SESSION_LIFETIME
# Strict-Transport-Security is sent only when SESSION_COOKIE_SECURE=1 (served over HTTPS).
HSTS_MAX_AGE = _int("HSTS_SECONDS", 365 * 24 * 3600)

# Login rate limit (Flask-Limiter, wired by Flask-AppBuilder on the login view's POSTs),
# per client IP. Behind a reverse proxy the client IP must be restored (ProxyFix), or all
# users share the proxy's allowance. Production: RATELIMIT_STORAGE_URI=redis://127.0.0.1:6379/0
# (needs the `redis` package) so that all gunicorn workers count together; if Redis is
# down the limiter falls back to counting in each worker's memory instead of failing logins.
AUTH_RATE_LIMITED = _bool("AUTH_RATE_LIMITED", True)
AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute")
RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
RATELIMIT_KEY_PREFIX = "portal-login"

# Passwords set on the portal's pages (add user, reset, change own): at least 10
# characters, 3 of 4 kinds, not containing the user name (portal/security/passwords.py).
# Seeding and the command line are not checked. Hashes: scrypt (FAB_PASSWORD_HASH_METHOD).
FAB_PASSWORD_COMPLEXITY_ENABLED = _bool("PASSWORD_POLICY_ENABLED", True)
FAB_PASSWORD_COMPLEXITY_VALIDATOR = password_complexity

# -- visit plans and reminders (issue 6) -------------------------------------------------------
# Which portal role follows which row of the visit rules (客户访问管理表, seeds/visit_rules.json):
# the rule keys are salesperson, sales_manager, marketing_director, general_manager. A company
# that adds MarketingDirector or GeneralManager roles to seeds/roles.json gets their plans.
VISIT_RULE_ROLES = {
    "Salesperson": "salesperson", "SalesManager": "sales_manager",
    "MarketingDirector": "marketing_director", "GeneralManager": "general_manager",
}
# The today page's windows (each can be changed on the page): birthdays and replenishments
# in the next N days, credit reports expiring within N days, cards not checked for N months
# (the quarterly check), no order for N months; a credit report whose validity the card does
# not give counts as valid this many months.
REMINDER_BIRTHDAY_DAYS = _int("REMINDER_BIRTHDAY_DAYS", 7)
REMINDER_REPLENISH_DAYS = _int("REMINDER_REPLENISH_DAYS", 7)
REMINDER_CREDIT_DAYS = _int("REMINDER_CREDIT_DAYS", 30)
REMINDER_STALE_MONTHS = _int("REMINDER_STALE_MONTHS", 3)
REMINDER_NO_ORDER_MONTHS = _int("REMINDER_NO_ORDER_MONTHS", 12)
REMINDER_DEFAULT_REPORT_MONTHS = _int("REMINDER_DEFAULT_REPORT_MONTHS", 12)
