"""The password policy for passwords set through the portal's pages.

Flask-AppBuilder calls ``FAB_PASSWORD_COMPLEXITY_VALIDATOR`` (see config.py) with the new
password whenever a user is added or a password is reset or changed on its pages; a
:class:`PasswordComplexityValidationError` becomes the form's error message. Seeding and
the command line set passwords directly and are not checked.

The rule: at least :data:`MIN_LENGTH` characters from at least :data:`MIN_CLASSES` of the
four classes lower-case letters, upper-case letters, digits and other characters
(punctuation, spaces, Chinese characters), and not containing the user name.
"""
from __future__ import annotations

from flask import g, has_request_context, request
from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MIN_CLASSES = 3
#: shorter user names are not looked for inside passwords (a user "li" would forbid
#: every password that contains the two letters)
MIN_USERNAME_LENGTH = 3

TOO_WEAK = _l("The password must have at least %(length)d characters and at least %(classes)d of these "
              "four kinds: lower-case letters, upper-case letters, digits, symbols.")
HAS_USERNAME = _l("The password must not contain the user name.")


def character_classes(password: str) -> int:
    """How many of the four classes (lower, upper, digit, other) the password uses."""
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    # Everything else counts as a symbol, including Chinese characters (they have no case).
    other = any(not (c.islower() or c.isupper() or c.isdigit()) for c in password)
    return lower + upper + digit + other


def check(password: str, username: str | None = None) -> None:
    """Raise :class:`PasswordComplexityValidationError` when ``password`` breaks the policy."""
    password = password or ""
    if len(password) < MIN_LENGTH or character_classes(password) < MIN_CLASSES:
        raise PasswordComplexityValidationError(str(TOO_WEAK % {"length": MIN_LENGTH, "classes": MIN_CLASSES}))
    name = (username or "").strip().casefold()
    if len(name) >= MIN_USERNAME_LENGTH and name in password.casefold():
        raise PasswordComplexityValidationError(str(HAS_USERNAME))


def username_of_request() -> str | None:
    """The user whose password the current request sets, as far as the request tells.

    Flask-AppBuilder passes the validator the password only: the user name comes from the
    add-user form, the user reset by an administrator (``?pk=``), or the signed-in user
    changing their own password.
    """
    if not has_request_context():
        return None
    if request.form.get("username"):
        return request.form["username"]
    if request.blueprint == "ResetPasswordView" and request.args.get("pk"):
        from flask import current_app

        user = current_app.appbuilder.sm.get_user_by_id(request.args["pk"])
        return user.username if user is not None else None
    json = request.get_json(silent=True) if request.is_json else None
    if isinstance(json, dict) and json.get("username"):
        return str(json["username"])
    user = g.get("user")
    if user is not None and getattr(user, "is_authenticated", False) and request.blueprint == "ResetMyPasswordView":
        return user.username
    return None


def password_complexity(password: str) -> None:
    """``FAB_PASSWORD_COMPLEXITY_VALIDATOR``: the policy, with the user name from the request."""
    check(password, username_of_request())
