"""Search as you type over the FTS5 index, on messy real-world names, phones, dates and ids."""

from __future__ import annotations

from datetime import date

import pytest

from frontdesk.services.patients import archive_patient, create_patient, update_patient
from frontdesk.services.patients.search import search
from frontdesk.store.context import ServiceContext

PEOPLE = [
    ("Siobhán", "O'Brien", "0412 345 678", date(1985, 7, 3)),
    ("Mary-Jane", "Smith-Jones", "0413 111 222", date(1990, 1, 2)),
    ("Nguyễn", "Thị Minh Anh", "0414 222 333", date(1979, 12, 31)),
    ("Đặng", "Văn Lâm", "0414 999 000", None),
    ("小明", "王", "+61 415 333 444", date(2001, 5, 6)),
    ("Muhammad", "Al-Hassan", "0416 444 555", None),
    ("محمد", "عبد الله", "0417 555 666", None),
    ("Angus", "MacDonald", "0418 666 777", None),
    ("Fiona", "McDonald", "0419 777 888", None),
    ("José", "García", "+44 20 7946 0958", None),
]


@pytest.fixture
def people(ctx: ServiceContext) -> dict[str, str]:
    ids = {}
    for first, last, phone, dob in PEOPLE:
        created = create_patient(
            ctx,
            {"first_name": first, "last_name": last, "mobile_phone": phone, "date_of_birth": dob,
             "email": f"{len(ids)}.someone@example.com"},
        )  # fmt: skip
        ids[last] = created.patient_id
    return ids


def names(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.display_name for h in hits]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("obrien", "Siobhán O'Brien"),
        ("O'Brien", "Siobhán O'Brien"),
        ("o'bri", "Siobhán O'Brien"),
        ("siobhan", "Siobhán O'Brien"),
        ("Siobhán", "Siobhán O'Brien"),
        ("smith-jones", "Mary-Jane Smith-Jones"),
        ("jones", "Mary-Jane Smith-Jones"),
        ("mary jane", "Mary-Jane Smith-Jones"),
        ("nguyen", "Nguyễn Thị Minh Anh"),
        ("Nguyễn minh", "Nguyễn Thị Minh Anh"),
        ("dang van", "Đặng Văn Lâm"),
        ("王", "小明 王"),
        ("小明", "小明 王"),
        ("al-hassan", "Muhammad Al-Hassan"),
        ("alhassan", "Muhammad Al-Hassan"),
        ("hassan", "Muhammad Al-Hassan"),
        ("محمد", "محمد عبد الله"),
        ("garcia", "José García"),
        ("jose", "José García"),
    ],
)
def test_messy_names(
    ctx: ServiceContext, people: dict[str, str], typed: str, expected: str
) -> None:
    assert expected in names(search(ctx, typed))


def test_mc_and_mac_find_each_other(ctx: ServiceContext, people: dict[str, str]) -> None:
    for typed in ("mcdonald", "macdonald", "MacD"):
        found = names(search(ctx, typed))
        assert "Angus MacDonald" in found and "Fiona McDonald" in found


@pytest.mark.parametrize(
    "typed", ["0412 345 678", "0412345678", "+61 412 345 678", "61412345678", "(04) 1234-5678",
              "0412", "412 345"]
)  # fmt: skip
def test_phone_formats(ctx: ServiceContext, people: dict[str, str], typed: str) -> None:
    assert names(search(ctx, typed))[:1] == ["Siobhán O'Brien"]


def test_international_phone(ctx: ServiceContext, people: dict[str, str]) -> None:
    assert names(search(ctx, "+44 20 7946")) == ["José García"]


@pytest.mark.parametrize("typed", ["3/7/85", "03-07-1985", "3.7.1985", "1985-07-03"])
def test_dates(ctx: ServiceContext, people: dict[str, str], typed: str) -> None:
    assert names(search(ctx, typed)) == ["Siobhán O'Brien"]


def test_name_and_date_together(ctx: ServiceContext, people: dict[str, str]) -> None:
    assert names(search(ctx, "obrien 3/7/85")) == ["Siobhán O'Brien"]
    assert search(ctx, "smith 3/7/85") == []


def test_email_medicare_and_patient_number(ctx: ServiceContext, people: dict[str, str]) -> None:
    update_patient(ctx, people["O'Brien"], {"medicare_number": "2123 45670 1"})
    assert names(search(ctx, "2123 4567")) == ["Siobhán O'Brien"]
    assert names(search(ctx, "0.someone@example.com")) == ["Siobhán O'Brien"]
    hits = search(ctx, "P-000001")
    assert hits[0].display_name == "Siobhán O'Brien"
    assert names(search(ctx, "1"))[:1] == ["Siobhán O'Brien"] or search(ctx, "000001")


def test_index_follows_edits_and_archive(ctx: ServiceContext, people: dict[str, str]) -> None:
    pid = people["O'Brien"]
    update_patient(ctx, pid, {"last_name": "Kowalczyk"})
    assert search(ctx, "obrien") == []
    assert names(search(ctx, "kowal")) == ["Siobhán Kowalczyk"]
    archive_patient(ctx, pid)
    assert search(ctx, "kowal") == []
    hits = search(ctx, "kowal", include_archived=True)
    assert len(hits) == 1 and hits[0].archived


def test_exact_before_prefix_and_hit_fields(ctx: ServiceContext) -> None:
    create_patient(ctx, {"first_name": "Ann", "last_name": "Leeson"})
    create_patient(
        ctx, {"first_name": "Bob", "last_name": "Lee", "date_of_birth": date(1980, 11, 28)}
    )
    hits = search(ctx, "lee")
    assert names(hits) == ["Bob Lee", "Ann Leeson"]
    assert hits[0].age == 45 and hits[0].has_alert is False
    assert search(ctx, "") == [] and search(ctx, '"*') == []


def test_rebuilt_index_finds_the_same(ctx: ServiceContext, people: dict[str, str]) -> None:
    from frontdesk.services.patients.search import rebuild_index

    before = names(search(ctx, "o'bri"))
    rebuild_index(ctx)
    assert names(search(ctx, "o'bri")) == before == ["Siobhán O'Brien"]


def test_alerts_for_appointments(ctx: ServiceContext, people: dict[str, str]) -> None:
    from frontdesk.services.patients import add_alert, alerts_for

    add_alert(ctx, people["O'Brien"], "Latex allergy")
    assert alerts_for(ctx, [people["O'Brien"], people["Smith-Jones"]]) == {
        people["O'Brien"]: ["Latex allergy"]
    }
    assert search(ctx, "obrien")[0].has_alert
