"""HTTP hardening of every response: security headers, a per-request nonce for the
Content-Security-Policy, CSRF protection of every form post, and clear pages (in the
user's language) when a post is refused for a missing CSRF token or the login rate limit.

``install(app)`` is called once by :func:`portal.create_app`; calling it again on the
same app does nothing.

The policy allows the portal's own files only. Flask-AppBuilder's inline scripts carry
``nonce="{{ baselib.get_nonce() }}"``, which renders ``csp_nonce()`` when that name exists:
it is a template *global* here, not a context-processor variable, because FAB's
templates import ``baselib.html`` without context (``lib.html``, ``search.html``, the
list widgets) and such imports see globals only. FAB 5's templates and ours have no
inline event handlers (``onclick=`` ...) or ``javascript:`` links: their scripts bind
events with ``addEventListener``/jQuery, so no FAB template needs overriding for the CSP.
"""
from __future__ import annotations

import logging
import secrets
import time

from flask import Flask, current_app, has_request_context, jsonify, render_template_string, request
from flask_babel import lazy_gettext as _l

log = logging.getLogger("portal.security")

EXTENSION = "portal.security.headers"
_NONCE_KEY = "portal.csp_nonce"

# Scripts: own files plus the request's nonce (FAB's inline scripts); no 'unsafe-inline',
# no 'unsafe-eval' (jQuery 3, Bootstrap 3, Select2 4 and the datepicker need neither).
#
# Styles: Flask-AppBuilder's markup has ~30 style="..." attributes it relies on (the
# hidden action/delete forms are style="display: none", the tabs of a card without
# related records, the login box), our home page and the start-up error page use a few,
# and Select2/Bootstrap set inline styles. Style *attributes* therefore need
# 'unsafe-inline' (style-src, which style-src-attr falls back to). <style> *elements* are
# not used anywhere, so style-src-elem allows stylesheets from the portal only: browsers
# that know style-src-elem block injected <style> blocks; older ones fall back to
# style-src and still show the pages correctly. Inline styles cannot run code; what they
# could leak needs an HTML injection first, which Jinja's autoescaping prevents.
#
# Images and fonts (Font Awesome, flags) come from FAB's static files, so default-src
# 'self' covers them; the FAB themes that load Google fonts or data: images are not used
# (APP_THEME is empty).
def content_security_policy(nonce: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self' 'unsafe-inline'",
        "style-src-elem": "'self'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def csp_nonce() -> str:
    """This request's nonce (one per request, made on first use; kept in the request's
    environ, not in ``g``, which can outlive a request when an app context is already pushed)."""
    if not has_request_context():
        return ""
    nonce = request.environ.get(_NONCE_KEY)
    if nonce is None:
        nonce = request.environ[_NONCE_KEY] = secrets.token_urlsafe(18)
    return nonce


def security_headers(response):
    """after_request: the headers every response carries (a view's own value wins)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    # HSTS only where the portal is served over HTTPS: SESSION_COOKIE_SECURE says so (the
    # login would not work over plain HTTP with it). No includeSubDomains: other intranet
    # hosts under the same domain may still be plain HTTP.
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        max_age = int(current_app.config.get("HSTS_MAX_AGE", 31536000))
        headers.setdefault("Strict-Transport-Security", f"max-age={max_age}")
    return response


_PAGE = """{% extends base_template %}
{% block content %}
<div class="page-header"><h1 id="error-title">{{ title }}</h1></div>
<p class="lead" id="error-message">{{ message }}</p>
<p><a class="btn btn-primary" href="{{ back_url }}">{{ back_label }}</a></p>
{% endblock %}"""

_PLAIN_PAGE = """<!doctype html><html><meta charset="utf-8"><title>{{ title }}</title>
<body><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="{{ back_url }}">{{ back_label }}</a></p></body></html>"""


def _error_page(status: int, title, message, back_url: str, back_label):
    if request.path.startswith("/api/"):
        return jsonify(message=str(message)), status
    appbuilder = current_app.appbuilder
    values = {"title": title, "message": message, "back_url": back_url, "back_label": back_label}
    try:
        return render_template_string(_PAGE, base_template=appbuilder.base_template, appbuilder=appbuilder,
                                      **values), status
    except Exception:  # the page must not fail where the layout does (e.g. database down)
        log.exception("error page layout failed")
        return render_template_string(_PLAIN_PAGE, **values), status


def too_many_requests(exc):
    """429 from Flask-Limiter (the login's AUTH_RATE_LIMIT): how long to wait, no traceback."""
    limit = getattr(current_app.appbuilder.sm, "limiter", None)
    current = limit.current_limit if limit is not None else None
    seconds = max(1, int(current.reset_at - time.time())) if current is not None else 60
    log.warning("rate limit hit: %s %s from %s", request.method, request.path, request.remote_addr)
    response = _error_page(
        429, _l("Too many attempts"),
        _l("There were too many attempts from this computer in a short time. "
           "Please wait %(seconds)d seconds, then try again.", seconds=seconds),
        current_app.appbuilder.get_url_for_login, _l("Back to the login page"))
    body, status = response
    return body, status, {"Retry-After": str(seconds)}


def _back_url() -> str:
    """Where the error page's button leads: the page the user came from on this portal, else home."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else current_app.appbuilder.get_url_for_index


def csrf_refused(exc):
    """400 from Flask-WTF: the post had no valid CSRF token (a page left open past the
    session lifetime, or a post from another site). Nothing was saved."""
    log.warning("CSRF check failed: %s %s from %s: %s", request.method, request.path, request.remote_addr,
                exc.description)
    return _error_page(
        400, _l("The form could not be accepted"),
        _l("The page was open for too long or did not come from this portal, so nothing was saved. "
           "Go back, reload the page and enter the data again."),
        _back_url(), _l("Back"))


def too_large(exc):
    """413 from Flask (MAX_CONTENT_LENGTH, the MAX_UPLOAD_MB setting): the limit in the user's
    language — JSON for the import's API, whose page shows the message — not Werkzeug's page."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _error_page(
        413, _l("The file is too large"),
        _l("At most %(limit)s MB can be uploaded at once; nothing was saved.", limit=f"{limit / 1048576:.3g}"),
        _back_url(), _l("Back"))


def http_error(exc):
    """400/403/404/405 from an ``abort`` or an unknown address: a page in the user's language in
    the portal's layout (JSON under /api/), not Werkzeug's English one. A 400 whose view gave
    its own message (``abort(400, _("…"))``) shows that message."""
    code = exc.code
    titles = {400: _l("The request could not be understood"), 403: _l("You may not open this page"),
              404: _l("Page not found"), 405: _l("This page cannot be used this way")}
    messages = {400: _l("Something in the address or the form is not right, so nothing was done. "
                        "Go back and try again."),
                403: _l("Your role does not give you access to this page or record. "
                        "Ask your manager or the administrator if you need it."),
                404: _l("There is no such page, or the record is not (or no longer) in the archive you can see."),
                405: _l("This address does not take that kind of request; nothing was done.")}
    message = messages[code]
    if code == 400 and exc.description and exc.description != type(exc).description:
        message = exc.description
    body, status = _error_page(code, titles[code], message, _back_url(), _l("Back"))
    allowed = getattr(exc, "valid_methods", None)   # a 405 says what the address takes (RFC 9110)
    return (body, status, {"Allow": ", ".join(allowed)}) if allowed else (body, status)


def install(app: Flask) -> None:
    """Security headers, CSP nonce, CSRF protection and the error pages; idempotent."""
    if app.extensions.get(EXTENSION):
        return
    app.extensions[EXTENSION] = True
    app.add_template_global(csp_nonce, "csp_nonce")
    app.after_request(security_headers)

    # Flask-AppBuilder's forms check their own CSRF token, but its delete and action
    # endpoints (``/delete/<pk>``, ``/action/...``, ``/action_post``) take plain posts —
    # and even GETs — unless Flask-WTF's CSRFProtect is installed: then every post needs a
    # token, FAB's templates put one in their hidden forms, and FAB refuses mutations on
    # GET. (WTF_CSRF_ENABLED = False turns the check off, as in most tests.)
    from flask_wtf.csrf import CSRFError, CSRFProtect

    if "csrf" not in app.extensions:
        csrf = CSRFProtect(app)
        # FAB exempts its REST APIs (token authenticated) when CSRFProtect exists at
        # registration; it is installed after the views here, so exempt them the same way.
        from flask_appbuilder.api import BaseApi

        for view in getattr(app, "appbuilder").baseviews:
            if isinstance(view, BaseApi) and view.csrf_exempt and view.blueprint is not None:
                csrf.exempt(view.blueprint)
    app.register_error_handler(CSRFError, csrf_refused)
    app.register_error_handler(429, too_many_requests)
    app.register_error_handler(413, too_large)
    for code in (400, 403, 404, 405):
        app.register_error_handler(code, http_error)
