"""FAB's own answers when @protect turns a request away (401 not signed in, 403 no
permission), said in the user's language as the portal's own refusals are."""
from __future__ import annotations

from flask import jsonify
from flask_babel import lazy_gettext as _l

NOT_SIGNED_IN = _l("Sign in first.")
NOT_PERMITTED = _l("You may not do this.")


class RefusalsInUsersLanguage:
    """Mixed into every API class, before FAB's base."""

    def response_401(self):
        return self.response(401, message=str(NOT_SIGNED_IN))

    def response_403(self):
        return self.response(403, message=str(NOT_PERMITTED))


def answer_token_refusals(jwt_manager) -> None:
    """A request without a session or a valid token is turned away by flask-jwt-extended
    before FAB's @protect sees it, with its own English ``msg``: the same answer instead."""
    def not_signed_in(*_reason):
        return jsonify(message=str(NOT_SIGNED_IN)), 401

    for loader in (jwt_manager.unauthorized_loader, jwt_manager.invalid_token_loader,
                   jwt_manager.expired_token_loader, jwt_manager.revoked_token_loader):
        loader(not_signed_in)
