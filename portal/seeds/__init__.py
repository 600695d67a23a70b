"""What the portal starts with: roles (seeds/roles.json), code tables (seeds/codes.json) and
the demo archive."""
from __future__ import annotations


def initialise(appbuilder, session) -> tuple[list[str], int]:
    """What ``flask portal init`` does, idempotently: permissions and roles as in roles.json,
    then the missing code-table rows. Returns (role names, code rows added)."""
    from . import codes, roles

    names = roles.apply_roles(appbuilder)
    added = codes.load_code_tables(session)
    session.commit()
    return names, added
