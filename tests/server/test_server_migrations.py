"""The clinic server's own migrations, on SQLite and PostgreSQL: models and migrations agree,
servers made by the create_all code before them are adopted with their data, newer databases
are refused untouched, older ones upgrade (a SQLite file copied first), init is idempotent."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, insert, inspect, select, text

from frontdesk.db.engine import make_engine
from frontdesk.domain.errors import DatabaseTooNew, EnvironmentProblem
from frontdesk.domain.ids import uuid7
from frontdesk.models import Base
from frontdesk.paths import DeskPaths
from frontdesk.server import migrate
from frontdesk.server import schema as s
from frontdesk.server.cli import main as server_main
from frontdesk.server.store import ServerStore, normalise_url
from frontdesk.services.desk import open_desk
from tests.sync.clinic import START, Clinic


def _engine(url: str) -> Engine:
    return make_engine(normalise_url(url))


def _diff(url: str) -> list[object]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": migrate.include_name,
                    "include_object": migrate.include_object,
                },
            )
            return list(compare_metadata(ctx, migrate.target_metadata()))
    finally:
        engine.dispose()


def _make_old_style(url: str, epoch: str) -> None:
    """What ServerStore.init did before the migrations: create_all and three server_info rows.
    Once the head is past the baseline, create_all makes a newer schema; the baseline revision
    makes exactly what it used to (then its version table goes)."""
    engine = _engine(url)
    with engine.begin() as conn:
        if migrate.EXPECTED_HEAD == migrate.BASELINE:
            s.server_md.create_all(conn)
            Base.metadata.create_all(conn, tables=s.all_data_tables())
        else:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, migrate.BASELINE)
            conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        conn.execute(
            insert(s.server_info),
            [
                {"key": "schema", "value": "1"},
                {"key": "epoch", "value": epoch},
                {"key": "history_floor", "value": "0"},
            ],
        )
    engine.dispose()


def _back_to_before_migrations(url: str) -> None:
    """Turn a server database at the head into what the create_all code left: the baseline
    schema (later revisions' downgrades), no version table, ``server_info.schema`` = 1."""
    engine = _engine(url)
    with migrate._migrating(engine) as conn:  # SQLite: foreign keys off while tables rebuild
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, migrate.BASELINE)
        conn.execute(text(f"DROP TABLE {migrate.VERSION_TABLE}"))
        conn.execute(text("UPDATE server_info SET value = '1' WHERE key = 'schema'"))
    engine.dispose()


def _without(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("pull_cursor", "unsent")} for r in rows]


def _info(url: str) -> dict[str, str]:
    engine = _engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(s.server_info.c.key, s.server_info.c.value)).all()
    engine.dispose()
    return {str(k): str(v) for k, v in rows}


def _set_revision(url: str, revision: str) -> None:
    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = :v"), {"v": revision})
    engine.dispose()


def _fingerprint(url: str) -> object:
    """The whole database as data: SQLite's bytes, or on PostgreSQL every table's rows."""
    if "://" not in url:
        return Path(url).read_bytes()
    engine = _engine(url)
    with engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        out = {
            n: sorted(map(tuple, conn.execute(text(f'SELECT * FROM "{n}"')).all())) for n in names
        }
    engine.dispose()
    return out


def test_models_and_migrations_agree(server_url: str) -> None:
    store = ServerStore(server_url)
    assert store.init().created
    store.dispose()
    assert _diff(server_url) == [], "run python -m frontdesk.server.new_migration"
    info = _info(server_url)
    assert info["schema"] == str(s.SERVER_SCHEMA)
    assert info["history_floor"] == "0"
    assert len(info["epoch"]) == 36


def test_single_head_and_expected_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, "two server revisions share a parent: re-chain"
    assert migrate.head_revision() == migrate.EXPECTED_HEAD, (
        "set EXPECTED_HEAD in frontdesk/server/migrate.py to the newest server revision"
    )
    assert all(r.revision.startswith("s") for r in script.walk_revisions())
    first = next(r for r in script.walk_revisions() if r.down_revision is None)
    assert first.revision == migrate.BASELINE


def test_new_server_revisions_are_numbered_after_the_head() -> None:
    from frontdesk.server.new_migration import next_revision_id

    assert next_revision_id("s0001") == "s0002"
    assert next_revision_id("s0099") == "s0100"


def test_create_all_server_is_adopted_unchanged(server_url: str) -> None:
    epoch = uuid7()
    _make_old_style(server_url, epoch)
    store = ServerStore(server_url)
    outcome = store.init()
    store.dispose()
    assert outcome.action == "adopted"
    assert "no data was changed" in outcome.describe()
    assert _diff(server_url) == []
    assert _info(server_url) == {
        "schema": str(s.SERVER_SCHEMA),
        "epoch": epoch,
        "history_floor": "0",
    }
    engine = _engine(server_url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.EXPECTED_HEAD
    engine.dispose()


def test_populated_old_server_upgrades_keeping_data_and_epoch(
    tmp_path: Path, server_url: str
) -> None:
    clinic = Clinic(tmp_path, server_url)
    try:
        desk = clinic.add_desk("front")
        pract = desk.add_practitioner()
        patient = desk.add_patient("Siobhán", "O'Brien")
        desk.book(pract, patient, START + timedelta(hours=2))
        assert desk.sync()
        before_rows = clinic.server_rows()
        epoch, devices = clinic.store.epoch(), clinic.store.list_devices()
        with clinic.store.reading() as conn:
            changes = conn.execute(select(func.count()).select_from(s.change_log)).scalar()
        assert changes and changes >= 3
        _back_to_before_migrations(server_url)

        store = ServerStore(server_url)
        outcome = store.init()
        assert outcome.action == "adopted"
        assert store.latest_seq == changes
        store.dispose()
        if "://" not in server_url:
            assert outcome.backup is not None and outcome.backup.parent == tmp_path
            assert outcome.backup.name.startswith("server-before-upgrade-schema1-")
        else:
            assert outcome.backup is None

        assert _diff(server_url) == []
        assert clinic.server_rows() == before_rows
        assert clinic.store.epoch() == epoch
        # pull_cursor and unsent came after the baseline (s0002): an old server never had them.
        assert _without(clinic.store.list_devices()) == _without(devices)
        # The desk carries on without a re-sync; a new desk gets everything.
        desk.edit_patient(patient, first_name="Siobhan")
        assert desk.sync()
        clinic.add_desk("back")
        clinic.settle()
        clinic.assert_converged()
    finally:
        clinic.close()


def test_newer_server_database_is_refused_untouched(server_url: str) -> None:
    store = ServerStore(server_url)
    store.init()
    store.dispose()
    _set_revision(server_url, "s9999")
    before = _fingerprint(server_url)
    store = ServerStore(server_url)
    with pytest.raises(DatabaseTooNew) as err:
        store.init()
    store.dispose()
    assert "made by a newer frontdesk-server; upgrade this server" in err.value.user_message
    assert _fingerprint(server_url) == before


def test_old_style_database_from_a_newer_server_is_refused(server_url: str) -> None:
    ServerStore(server_url).init()
    _back_to_before_migrations(server_url)
    engine = _engine(server_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE server_info SET value = '3' WHERE key = 'schema'"))
    engine.dispose()
    before = _fingerprint(server_url)
    store = ServerStore(server_url)
    with pytest.raises(DatabaseTooNew):
        store.init()
    store.dispose()
    assert _fingerprint(server_url) == before


def test_init_twice_changes_nothing(server_url: str) -> None:
    store = ServerStore(server_url)
    store.init()
    store.create_enrolment_code("Front desk")
    store.dispose()
    before = _fingerprint(server_url)
    store = ServerStore(server_url)
    outcome = store.init()
    store.dispose()
    assert outcome.action == "current"
    assert outcome.backup is None
    assert _fingerprint(server_url) == before


def test_a_database_at_head_opens_without_alembic(tmp_path: Path) -> None:
    url = str(tmp_path / "server.sqlite3")
    store = ServerStore(url)
    store.init()
    store.dispose()
    code = (
        "import sys; from frontdesk.server.store import ServerStore; "
        f"st = ServerStore({url!r}); print(st.init().action); "
        "print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["current", "False"]


def test_a_desk_database_is_refused_untouched(tmp_path: Path) -> None:
    paths = DeskPaths(tmp_path / "desk")
    open_desk(paths).engine.dispose()
    before = paths.database.read_bytes()
    store = ServerStore(str(paths.database))
    with pytest.raises(EnvironmentProblem) as err:
        store.init()
    store.dispose()
    assert "not a clinic-server database" in err.value.user_message
    assert paths.database.read_bytes() == before


_LATER_REVISION = """
from alembic import op
import sqlalchemy as sa

revision = "s9002"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("server_devices") as batch_op:
        batch_op.add_column(sa.Column("note", sa.String(60), nullable=True))
"""


def test_upgrade_to_a_later_revision_backs_up_first_and_keeps_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path every future server release takes: a database at the shipped head meets a
    later revision (written here into a copy of the migrations, as a release would add one)."""
    import shutil

    scripts = tmp_path / "migrations"
    shutil.copytree(migrate._script_location(), scripts)
    head = migrate.EXPECTED_HEAD
    later = _LATER_REVISION.replace("{head}", head)
    (scripts / "versions" / "s9002_later.py").write_text(later, encoding="utf-8")
    url = str(tmp_path / "server.sqlite3")
    store = ServerStore(url)
    store.init()
    code = store.create_enrolment_code("Front desk")
    epoch = store.epoch()
    store.dispose()

    monkeypatch.setattr(migrate, "_script_location", lambda: str(scripts))
    monkeypatch.setattr(migrate, "EXPECTED_HEAD", "s9002")
    store = ServerStore(url)
    outcome = store.init()
    assert (outcome.action, outcome.before, outcome.after) == ("upgraded", head, "s9002")
    assert outcome.backup is not None and outcome.backup.exists()
    assert store.epoch() == epoch
    device, _token, _has, _delivered = store.enrol(
        code, "01900000-0000-7000-8000-000000000001", "desk"
    )
    assert device.name == "desk"  # the enrolment code made before the upgrade still works
    with store.reading() as conn:
        assert "note" in {c["name"] for c in inspect(conn).get_columns("server_devices")}
    store.dispose()


def test_cli_init_and_upgrade_say_what_they_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "server.sqlite3")
    ServerStore(db).init()
    _back_to_before_migrations(db)
    assert server_main(["--database", db, "upgrade"]) == 0
    assert "earlier frontdesk-server" in capsys.readouterr().out
    assert server_main(["--database", db, "init"]) == 0
    assert "already up to date" in capsys.readouterr().out
    _set_revision(db, "s9999")
    assert server_main(["--database", db, "devices"]) == 2
    assert "upgrade this server" in capsys.readouterr().err
    assert server_main(["--database", str(tmp_path / "new.sqlite3"), "init"]) == 0
    assert "created" in capsys.readouterr().out
