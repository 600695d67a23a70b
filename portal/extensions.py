"""Extensions, created unbound and initialised in :func:`portal.create_app`."""
import orjson
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate


def _json_text(value) -> str:
    # Imports write a JSON document per staged row and per history entry: orjson encodes
    # and decodes them several times faster than the json module, with the same result.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


db = SQLA(engine_options={"json_serializer": _json_text, "json_deserializer": orjson.loads})
migrate = Migrate()


# SQLite's page cache per connection (its default is 2 MB). An import writes 100,000 cards
# into the customer table and its 23 indexes; with 2 MB their pages go back and forth to the
# file, and the inserts take up to twice as long as with 32–64 MB (bench/RESULTS.md). The cache
# fills only as pages are read, so an idle connection does not hold it.
SQLITE_CACHE_KIB = 48 * 1024


def enforce_sqlite_foreign_keys() -> None:
    """SQLite ignores foreign keys unless asked per connection; ask, so that SQLite refuses
    what PostgreSQL refuses (tests on SQLite then catch the same mistakes). Also use the
    write-ahead log: readers do not block the writer, and the access log's small commits
    (one per page) do not each wait for a full sync of the database file. And give it a
    page cache that holds an import's indexes (SQLITE_CACHE_KIB)."""
    import sqlite3

    import sqlalchemy as sa

    @sa.event.listens_for(sa.engine.Engine, "connect")
    def _foreign_keys_on(dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.OperationalError:
                pass  # a read-only connection (backup checks) keeps the file's journal mode
            cursor.close()


def postgresql_without_jit() -> None:
    """Turn PostgreSQL's JIT compiler off for the portal's connections. The analyses are
    aggregates of a second or less whose estimated cost passes jit_above_cost, and compiling
    them costs more than it saves: the referral chains at 100,000 customers took 1.0 s, 0.7 s of
    it JIT (EXPLAIN ANALYZE), and 0.3 s without."""
    import sqlalchemy as sa

    @sa.event.listens_for(sa.engine.Engine, "connect")
    def _no_jit(dbapi_connection, connection_record):
        if type(dbapi_connection).__module__.startswith("psycopg"):
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            dbapi_connection.commit()
