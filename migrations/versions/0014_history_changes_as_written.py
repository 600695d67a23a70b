"""the change history keeps each entry's changes as written: json, not jsonb, on PostgreSQL

Nothing queries inside an entry's changes, and the History tab orders their fields by the card
itself; parsing every entry into jsonb cost an import of 100,000 new cards about 0.3-0.4 s of its
commit (bench/RESULTS.md, twenty-third session). SQLite keeps JSON as text either way, so this
changes nothing there. PostgreSQL refuses to alter the type of a column the append-only trigger
names: the trigger is dropped and created again around the change, as 0004 did.

Revision ID: 0014
Revises: 0013
"""
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# The columns the append-only trigger freezes, as 0004 left them.
CHANGE_LOG_FROZEN = "at, username, object_type, object_id, action, source, changes"


def _retype_changes(type_: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS change_log_append_only ON change_log")
    op.execute(f"ALTER TABLE change_log ALTER COLUMN changes TYPE {type_} USING changes::{type_}")
    # The function change_log_append_only() from 0002 is still there.
    op.execute(f"""CREATE TRIGGER change_log_append_only BEFORE UPDATE OF {CHANGE_LOG_FROZEN} ON change_log
                   FOR EACH ROW EXECUTE FUNCTION change_log_append_only()""")


def upgrade():
    _retype_changes("json")


def downgrade():
    _retype_changes("jsonb")
