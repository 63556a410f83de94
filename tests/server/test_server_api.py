"""The server's HTTP API on SQLite and PostgreSQL: versions, trust, validation, idempotency."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from frontdesk.domain.ids import uuid7
from frontdesk.server import schema as s
from frontdesk.sync.transport import desk_headers
from tests.sync.clinic import START, Clinic


def _enrol(clinic: Clinic) -> tuple[str, str]:
    code = clinic.store.create_enrolment_code("Test desk")
    device = uuid7()
    r = clinic.client.post(
        "/v1/enrol", json={"code": code, "device_id": device}, headers=desk_headers(None)
    )
    assert r.status_code == 200, r.text
    return device, r.json()["token"]


def _patient(pid: str, **extra: Any) -> dict[str, Any]:
    now = START.isoformat()
    return {
        "id": pid,
        "patient_number": f"T-{pid[-6:]}",
        "first_name": "Ann",
        "last_name": "Oh",
        "created_at": now,
        "updated_at": now,
        **extra,
    }


def _mutation(seq: int, fields: dict[str, Any], **over: Any) -> dict[str, Any]:
    m = {
        "mutation_id": uuid7(),
        "seq": seq,
        "entity": "patients",
        "row_id": fields.get("id"),
        "op": "insert",
        "base_version": 0,
        "hlc": f"{int(START.timestamp() * 1000):015d}-00000-x",
        "fields": fields,
    }
    m.update(over)
    return m


def _push(clinic: Clinic, token: str, mutations: list[dict[str, Any]], **kw: Any) -> Any:
    return clinic.client.post(
        "/v1/push", json={"cursor": 0, "mutations": mutations}, headers=desk_headers(token), **kw
    )


def _stored(clinic: Clinic) -> tuple[int, int]:
    with clinic.store.reading() as conn:
        log = conn.execute(select(func.count()).select_from(s.change_log)).scalar()
        results = conn.execute(select(func.count()).select_from(s.mutation_results)).scalar()
    return int(log or 0), int(results or 0)


def test_health_and_openapi(any_clinic: Clinic) -> None:
    assert any_clinic.client.get("/health").json()["status"] == "ok"
    spec = any_clinic.client.get("/openapi.json").json()
    assert "/v1/push" in spec["paths"]


def test_old_desk_gets_a_clear_upgrade_needed(any_clinic: Clinic) -> None:
    _dev, token = _enrol(any_clinic)
    headers = {**desk_headers(token), "X-Frontdesk-Protocol": "0"}
    r = any_clinic.client.get("/v1/pull", headers=headers)
    assert r.status_code == 426
    assert "Upgrade" in r.json()["message"]
    headers = {**desk_headers(token), "X-Frontdesk-Schema": "0000_old"}
    assert any_clinic.client.get("/v1/pull", headers=headers).status_code == 426


def test_old_desk_engine_reports_upgrade_needed(clinic: Clinic) -> None:
    import pytest

    from frontdesk.sync.engine import UpgradeNeeded

    desk = clinic.add_desk()
    desk.plain.headers_override = {"X-Frontdesk-Protocol": "0"}
    with pytest.raises(UpgradeNeeded):
        desk.engine.sync()


def test_tokens_are_checked_hashed_and_revocable(any_clinic: Clinic) -> None:
    device, token = _enrol(any_clinic)
    assert any_clinic.client.get("/v1/pull", headers=desk_headers("wrong")).status_code == 401
    assert any_clinic.client.get("/v1/pull", headers=desk_headers(None)).status_code == 401
    with any_clinic.store.reading() as conn:
        stored = conn.execute(select(s.devices.c.token_hash)).scalars().all()
    assert token not in stored and len(stored[0]) == 64
    assert any_clinic.client.get("/v1/pull", headers=desk_headers(token)).status_code == 200
    assert any_clinic.store.revoke(device) == 1
    r = any_clinic.client.get("/v1/pull", headers=desk_headers(token))
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_enrolment_code_works_once(any_clinic: Clinic) -> None:
    code = any_clinic.store.create_enrolment_code("Front desk")
    body = {"code": code, "device_id": uuid7()}
    assert (
        any_clinic.client.post("/v1/enrol", json=body, headers=desk_headers(None)).status_code
        == 200
    )
    again = any_clinic.client.post(
        "/v1/enrol", json={**body, "device_id": uuid7()}, headers=desk_headers(None)
    )
    assert again.status_code == 403
    assert "code" in again.json()["message"]


def test_bad_pushes_get_4xx_and_store_nothing(any_clinic: Clinic) -> None:
    """A batch that cannot be read in order is refused whole; a change whose values are wrong
    is refused on its own (issue 15: one bad value never stops a desk's sync)."""
    _dev, token = _enrol(any_clinic)
    pid = uuid7()
    good = _patient(pid)
    bad_batches = [
        [{**_mutation(1, good), "seq": "one"}],
        [{"seq": 1}],
        [{**_mutation(1, good), "seq": 2**64}],
    ]
    for batch in bad_batches:
        r = _push(any_clinic, token, batch)
        assert 400 <= r.status_code < 500, (batch, r.status_code, r.text)
        assert r.json()["message"]
    assert _push(any_clinic, token, "not a list").status_code == 422  # type: ignore[arg-type]
    r = any_clinic.client.post(
        "/v1/push",
        content=b"{not json",
        headers={**desk_headers(token), "content-type": "application/json"},
    )
    assert r.status_code == 422
    assert _stored(any_clinic) == (0, 0)
    bad_values = [
        _mutation(1, good, entity="no_such_table"),
        _mutation(2, {**good, "shoe_size": 9}),
        _mutation(3, {**good, "first_name": 12}),
        _mutation(4, {**good, "date_of_birth": "not a date"}),
        _mutation(5, {**good, "first_name": "x" * 500}),
        _mutation(6, good, op="drop"),
        _mutation(7, {**good, "last_name": None, "id": "other"}),
        _mutation(8, {**good, "admin_notes": "x" * 70_000}),
        _mutation(9, {**good, "first_name": "Ann\x00"}),
    ]
    r = _push(any_clinic, token, bad_values)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["rejected"] * len(bad_values)
    assert all(x["reason"] for x in results) and r.json()["stopped"] is None
    assert _stored(any_clinic) == (0, len(bad_values))  # answers kept, nothing applied


def test_future_clock_is_clamped_and_said(any_clinic: Clinic) -> None:
    """A desk's clock ahead never stops its changes (issue 12): stamps are clamped to the
    server's time; a lead of more than a day is also said in the answer."""
    _dev, token = _enrol(any_clinic)
    later = START + timedelta(days=3)
    far = uuid7()
    r = _push(any_clinic, token, [_mutation(1, _patient(far, updated_at=later.isoformat()))])
    assert r.status_code == 200 and r.json()["clock_ahead"] is True
    assert r.json()["results"][0]["status"] == "applied"
    assert any_clinic.server_rows()["patients"][far]["updated_at"] == START.isoformat()
    slightly = START + timedelta(hours=2)  # within a day: accepted, clamped, nothing said
    pid = uuid7()
    r = _push(any_clinic, token, [_mutation(2, _patient(pid, updated_at=slightly.isoformat()))])
    assert r.json()["results"][0]["status"] == "applied" and "clock_ahead" not in r.json()
    row = any_clinic.server_rows()["patients"][pid]
    assert row["updated_at"] == START.isoformat()


def test_replay_returns_the_stored_result_and_gaps_stop_the_batch(any_clinic: Clinic) -> None:
    _dev, token = _enrol(any_clinic)
    m1 = _mutation(1, _patient(uuid7()))
    first = _push(any_clinic, token, [m1]).json()
    again = _push(any_clinic, token, [m1]).json()
    assert again["results"] == first["results"]
    assert _stored(any_clinic)[1] == 1
    m3 = _mutation(3, _patient(uuid7()))
    r = _push(any_clinic, token, [m3]).json()
    assert r["results"] == [] and r["stopped"] == {"reason": "gap", "expected_seq": 2}
    reused = _mutation(1, _patient(uuid7()))
    r = _push(any_clinic, token, [reused]).json()
    assert r["stopped"]["reason"] == "seq_reused"
    assert _stored(any_clinic)[1] == 1


def test_business_rejection_answers_2xx_and_the_queue_moves_on(any_clinic: Clinic) -> None:
    _dev, token = _enrol(any_clinic)
    ghost = {"id": uuid7(), "first_name": "Nobody", "updated_at": START.isoformat()}
    m1 = _mutation(1, ghost, op="update", row_id=ghost["id"])
    m2 = _mutation(2, _patient(uuid7()))
    r = _push(any_clinic, token, [m1, m2])
    assert r.status_code == 200
    statuses = [x["status"] for x in r.json()["results"]]
    assert statuses == ["rejected", "applied"]
    assert r.json()["results"][0]["reason"]


def test_duplicate_invoice_series_is_refused(any_clinic: Clinic) -> None:
    _dev1, t1 = _enrol(any_clinic)
    _dev2, t2 = _enrol(any_clinic)
    pid = uuid7()
    assert (
        _push(any_clinic, t1, [_mutation(1, _patient(pid))]).json()["results"][0]["status"]
        == "applied"
    )
    now = START.isoformat()

    def invoice(number: str) -> dict[str, Any]:
        return {
            "id": uuid7(),
            "number": number,
            "status": "issued",
            "patient_id": pid,
            "issued_at": now,
            "created_at": now,
            "updated_at": now,
        }

    inv = invoice("D1-000001")
    r1 = _push(any_clinic, t1, [_mutation(2, inv, entity="invoices", row_id=inv["id"])])
    assert r1.json()["results"][0]["status"] == "applied"
    inv2 = invoice("D1-000002")  # desk 2 using desk 1's series
    r2 = _push(any_clinic, t2, [_mutation(1, inv2, entity="invoices", row_id=inv2["id"])])
    assert r2.json()["results"][0]["status"] == "rejected"
    reason = r2.json()["results"][0]["reason"]
    assert "belongs to the desk" in reason and "revoke" not in reason  # a healthy desk
    draft = {**invoice("x"), "number": None, "status": "draft", "issued_at": None}
    r3 = _push(any_clinic, t2, [_mutation(2, draft, entity="invoices", row_id=draft["id"])])
    assert r3.json()["results"][0]["status"] == "applied"  # drafts carry no series


def test_pull_and_snapshot_bad_parameters_are_4xx(any_clinic: Clinic) -> None:
    _dev, token = _enrol(any_clinic)
    h = desk_headers(token)
    assert any_clinic.client.get("/v1/pull?cursor=-1", headers=h).status_code == 422
    assert any_clinic.client.get("/v1/pull?limit=999999", headers=h).status_code == 422
    assert any_clinic.client.get("/v1/pull?cursor=abc", headers=h).status_code == 422
    assert any_clinic.client.get("/v1/snapshot/sync_outbox", headers=h).status_code == 404
    assert any_clinic.client.post("/v1/stats", json={"tables": "x"}, headers=h).status_code == 422
    big = {"code": "x" * 50, "device_id": "y"}
    assert any_clinic.client.post("/v1/enrol", json=big, headers=h).status_code == 422
    r = any_clinic.client.post("/v1/push", content=b"x" * 9_000_000, headers=h)
    assert r.status_code == 413
    assert json.loads(r.text)["error"] == "big"
