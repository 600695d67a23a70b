"""Analyses of the archive (用重于管): a registry of pages (registry.py), drill-down to the
customer grid (drill.py), SQL helpers that work on SQLite and PostgreSQL (sql.py), and the
composition, credit and lifecycle analyses. Read registry.py's and drill.py's docstrings to
add a page or a drill."""
