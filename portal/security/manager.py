"""The portal's security manager (Superset/Airflow style: subclass FAB's, don't patch)."""
from __future__ import annotations

from flask_appbuilder.security.sqla.manager import SecurityManager


class PortalSecurityManager(SecurityManager):
    """Flask-AppBuilder's manager; row scope and masking hook in here (security issue)."""

    # FAB's user-statistics chart loads Google Charts from the internet: it breaks on an
    # intranet, so it is not registered.
    userstatschartview = None
