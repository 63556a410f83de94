"""Models and migrations agree; old databases upgrade; newer ones are refused untouched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from frontdesk.db import migrate
from frontdesk.db.backup import materialise
from frontdesk.db.engine import make_engine
from frontdesk.db.hand_made import include_name
from frontdesk.domain.errors import DatabaseTooNew
from frontdesk.models import Base
from frontdesk.paths import DeskPaths
from frontdesk.services.desk import open_desk


def test_models_and_migrations_agree(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "x.sqlite3")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": include_name}
            ),
            Base.metadata,
        )
    assert diff == [], f"run python scripts/new_desk_migration.py: {diff}"


def test_single_head() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, "two migrations share a parent: re-chain down_revision"


def test_populated_database_at_first_revision_upgrades(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    first = next(r for r in script.walk_revisions() if r.down_revision is None).revision
    path = tmp_path / "old.sqlite3"
    engine = make_engine(path)
    migrate.upgrade(engine, target=first)
    raw = sqlite3.connect(path)
    raw.execute(
        "INSERT INTO clinic_settings (id, version, created_at, updated_at, name, legal_name,"
        " business_number, business_number_label, address, phone, email, website, time_zone,"
        " currency, currency_symbol, tax_registered, tax_name, tax_rate_bp, date_format,"
        " default_overlap_policy, idle_lock_minutes, hide_revenue_from_reception,"
        " invoice_due_days, payment_instructions)"
        " VALUES ('0179f3a0-0000-7000-8000-0000000000c1', 0, '2020-01-01 00:00:00',"
        " '2020-01-01 00:00:00', 'Old clinic', '', '', 'ABN', '', '', '', '', 'Australia/Perth',"
        " 'AUD', '$', 1, 'GST', 1000, '%d/%m/%Y', 'warn', 10, 0, 14, '')"
    )
    raw.execute(
        "INSERT INTO patients (id, version, created_at, updated_at, patient_number, first_name,"
        " last_name, title, middle_name, preferred_name, pronouns, sex, mobile_phone, home_phone,"
        " work_phone, email, address_line1, address_line2, suburb, state, postcode, country,"
        " emergency_contact_name, emergency_contact_phone, emergency_contact_relationship,"
        " referrer_name, referrer_provider_number, gp_name, gp_practice, medicare_number,"
        " medicare_irn, medicare_expiry, dva_number, dva_card_colour, ndis_number, sms_consent,"
        " email_consent, admin_notes) VALUES ('0179f3a0-0000-7000-8000-0000000000a1', 0,"
        " '2020-01-01 00:00:00',"
        " '2020-01-01 00:00:00', 'P-1', 'Siobhán', 'O''Brien', '', '', '', '', '', '0412 345 678',"
        " '', '', '', '', '', '', '', '', 'Australia', '', '', '', '', '', '', '', '', '', '', '',"
        " '', '', 0, 0, '')"
    )
    raw.commit()
    raw.close()
    engine.dispose()
    paths = DeskPaths(tmp_path)
    (tmp_path / "old.sqlite3").rename(paths.database)
    ctx = open_desk(paths)
    from sqlalchemy import text

    with ctx.read() as s:
        assert s.execute(text("SELECT last_name FROM patients")).scalar_one() == "O'Brien"
        assert ctx.settings(s).name == "Old clinic"
    assert migrate.current_revision(ctx.engine) == migrate.head_revision()


def test_newer_database_is_refused_and_untouched(tmp_path: Path) -> None:
    paths = DeskPaths(tmp_path)
    ctx = open_desk(paths)
    ctx.engine.dispose()
    raw = sqlite3.connect(paths.database)
    raw.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    raw.commit()
    raw.close()
    before = paths.database.read_bytes()
    with pytest.raises(DatabaseTooNew) as err:
        open_desk(paths)
    assert "newer version" in err.value.user_message
    assert paths.database.read_bytes() == before


def test_upgrade_backs_up_first(tmp_path: Path) -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = list(script.walk_revisions())
    if len(revisions) < 2:
        pytest.skip("only one revision so far: nothing to upgrade from")
    first = revisions[-1].revision
    paths = DeskPaths(tmp_path)
    engine = make_engine(paths.database)
    migrate.upgrade(engine, target=first)
    engine.dispose()
    open_desk(paths)
    (made,) = paths.backups.glob("before-upgrade-*.sqlite3.zst")  # compressed since 0370
    restored = tmp_path / "restored.sqlite3"
    materialise(made, restored)
    conn = sqlite3.connect(restored)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(first,)]
    conn.close()


def test_expected_head_is_the_newest_revision() -> None:
    assert migrate.head_revision() == migrate.EXPECTED_HEAD, (
        "set EXPECTED_HEAD in frontdesk/db/migrate.py to the newest revision"
    )


def test_a_file_stamped_by_a_differently_chained_build_is_refused_clearly(
    tmp_path: Path,
) -> None:
    """Seen opening the cached 10-year clinic: built by a branch whose 0360_reports came right
    after 0350_claims, stamped 0360_reports; main puts 0360_api and 0360_msg first, so its
    upgrade skipped them and the desk failed on its first query (no such column
    clinic_settings.ical_detail). Now the upgraded file is checked and refused in words."""
    from frontdesk.domain.errors import DamagedDatabase

    paths = DeskPaths(tmp_path / "desk")
    paths.data_dir.mkdir()
    engine = make_engine(paths.database)
    migrate.upgrade(engine, target="0350_claims")
    with engine.begin() as conn:  # what the branch build wrote: its own chain's stamp
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0360_msg'")
    engine.dispose()
    with pytest.raises(DamagedDatabase) as caught:
        open_desk(paths)
    message = caught.value.user_message
    assert "is missing the column clinic_settings.ical_detail" in message
    assert "After upgrading" in message and str(paths.backups) in message
    assert any(paths.backups.glob("before-upgrade-*")), "the file as it was is kept"


def test_sync_totals_revision_fills_the_figures_and_downgrades_cleanly(tmp_path: Path) -> None:
    """0380_checks counts the figures of a populated desk once; its downgrade takes the table
    and every trigger away, and upgrading again counts them afresh."""
    from alembic import command
    from sqlalchemy import text

    from frontdesk.db import sync_totals

    ctx = open_desk(DeskPaths(tmp_path / "desk"))  # a new desk: its blank clinic settings
    ctx.engine.dispose()
    engine = make_engine(tmp_path / "desk" / "frontdesk.sqlite3")

    def down() -> None:
        with engine.begin() as conn:
            cfg = migrate.alembic_config()
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0370_dbsize")

    def names() -> list[str]:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT name FROM sqlite_master WHERE name LIKE 'sync_t%'")
                ).scalars()
            )

    assert len(names()) > 50  # the table and three triggers a synced table
    down()
    assert names() == []
    with engine.begin() as conn:  # a row synced while the figures were not kept
        conn.execute(text("UPDATE clinic_settings SET version = 3"))
    migrate.upgrade(engine)
    with engine.connect() as conn:
        q = lambda sql: conn.execute(text(sql)).all()  # noqa: E731
        assert sync_totals.kept(q, ["clinic_settings"]) == {"clinic_settings": [1, 3]}
        assert sync_totals.differences(q, sync_totals.TABLES_0380) == []
    engine.dispose()
