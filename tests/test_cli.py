"""`flask portal …` commands: idempotent set-up and clear messages on a bad database."""
import sqlalchemy as sa

from portal.extensions import db
from portal.models import Region
from tests.conftest import make_app


def test_init_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "init"])
    assert first.exit_code == 0, first.output
    regions = db.session.scalar(sa.select(sa.func.count()).select_from(Region))
    second = runner.invoke(args=["portal", "init"])
    assert second.exit_code == 0 and "0 rows added" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == regions == 7


def test_check_passes_on_a_migrated_database(app):
    result = app.test_cli_runner().invoke(args=["portal", "check"])
    assert result.exit_code == 0 and "database ok" in result.output


def test_commands_on_an_unmigrated_database_say_what_to_do(database):
    url = database.template_url("unmigrated")
    app = make_app(url)
    try:
        runner = app.test_cli_runner()
        for command in (["portal", "init"], ["portal", "seed"], ["portal", "check"]):
            result = runner.invoke(args=command)
            assert result.exit_code != 0, command
            assert "db upgrade" in result.output, (command, result.output)
            assert "Traceback" not in result.output
        with app.app_context():
            db.engine.dispose()
    finally:
        database.drop(url)


def test_prune_access_log_keeps_at_least_three_years(app):
    import datetime as dt

    from portal.models import AccessLog

    with db.engine.begin() as conn:
        conn.execute(sa.insert(AccessLog.__table__), [
            {"at": dt.datetime.now() - dt.timedelta(days=400), "action": "list"},
            {"at": dt.datetime.now() - dt.timedelta(days=3 * 366 + 5), "action": "list"}])
    result = app.test_cli_runner().invoke(args=["portal", "prune-access-log"])
    assert result.exit_code == 0 and "1 entries" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AccessLog)) == 1
