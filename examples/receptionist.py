"""A scripted phone call through the clinic's integration API: the reference client.

    python examples/receptionist.py --key fdk_… --caller "0412 345 678"  [--server URL] [--step]

The receptionist (an AI, or a person's tool) finds the caller by the number they rang from,
offers three free times, holds the one the caller picks, books it (with an Idempotency-Key, so
a retry never books twice), confirms it by reading it back, then — the caller rings back — moves
it and finally cancels it. Each step prints one line; any refusal prints the API's sentence.

Needs only ``httpx``. The key needs the scopes availability:read, appointments:write and
patients:read (``frontdesk-server api-key create --name … --scope …``).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

import httpx


class Refused(Exception):
    """The API said no: its problem+json detail is the message."""


class Receptionist:
    def __init__(self, server: str, key: str) -> None:
        self.http = httpx.Client(
            base_url=server.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = self.http.request(method, path, **kw)
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            raise Refused(f"{r.status_code}: {detail}")
        return r

    def find_caller(self, number: str) -> dict[str, Any]:
        found = self.call("GET", "/patients", params={"phone": number}).json()["items"]
        if not found:
            raise Refused("No patient has that number: ask for their name and date of birth.")
        return found[0]  # type: ignore[no-any-return]

    def bookable_type(self) -> dict[str, Any]:
        types = self.call("GET", "/appointment-types").json()["items"]
        online = [t for t in types if t["online_bookable"]]
        if not online:
            raise Refused("The clinic offers no appointment type for booking online.")
        return online[0]  # type: ignore[no-any-return]

    def offer(self, type_id: str, count: int = 3) -> list[dict[str, Any]]:
        slots = self.call(
            "GET", "/availability", params={"appointment_type_id": type_id, "limit": 50}
        ).json()["slots"]
        # three different times, not three practitioners at the same minute
        offered: list[dict[str, Any]] = []
        for slot in slots:
            if all(slot["start"] != o["start"] for o in offered):
                offered.append(slot)
            if len(offered) == count:
                break
        return offered

    def practitioners(self) -> dict[str, str]:
        """Each practitioner's name and profession by id, to tell the caller who they will
        see (the offers name practitioners by id)."""
        names: dict[str, str] = {}
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", "/practitioners", params=params).json()
            for p in page["items"]:
                names[p["id"]] = f"{p['display_name']} ({p['profession']})"
            cursor = page["next_cursor"]
            if not cursor:
                return names

    def hold(self, type_id: str, slot: dict[str, Any]) -> dict[str, Any]:
        body = {"practitioner_id": slot["practitioner_id"], "appointment_type_id": type_id,
                "start": slot["start"], "minutes": 5}  # fmt: skip
        return self.call("POST", "/holds", json=body).json()  # type: ignore[no-any-return]

    def book(self, patient_id: str, hold_id: str) -> tuple[dict[str, Any], str]:
        r = self.call(
            "POST", "/appointments", json={"patient_id": patient_id, "hold_id": hold_id},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        return r.json(), r.headers["ETag"]

    def read(self, appointment_id: str) -> tuple[dict[str, Any], str]:
        r = self.call("GET", f"/appointments/{appointment_id}")
        return r.json(), r.headers["ETag"]

    def move(self, appointment_id: str, etag: str, slot: dict[str, Any]) -> dict[str, Any]:
        body = {"start": slot["start"], "practitioner_id": slot["practitioner_id"]}
        r = self.call("POST", f"/appointments/{appointment_id}/move", json=body,
                      headers={"If-Match": etag, "Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        return r.json()  # type: ignore[no-any-return]

    def cancel(self, appointment_id: str, reason: str = "work") -> dict[str, Any]:
        r = self.call("POST", f"/appointments/{appointment_id}/cancel", json={"reason": reason},
                      headers={"Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
        return r.json()  # type: ignore[no-any-return]


def phone_call(
    r: Receptionist, caller_number: str, *, keep: bool = False, step: bool = False
) -> int:
    def pause() -> None:
        if step:  # wait for Enter: time to look at the desks' diaries
            sys.stdout.flush()
            input()

    patient = r.find_caller(caller_number)
    print(f"caller: patient {patient['id']} ({patient['first_name']})")
    kind = r.bookable_type()
    offered = r.offer(kind["id"])
    if len(offered) < 3:
        raise Refused("Fewer than three free times in the next two weeks.")
    who = r.practitioners()
    for n, slot in enumerate(offered, 1):
        name = who.get(slot["practitioner_id"], f"practitioner {slot['practitioner_id']}")
        print(f"offer {n}: {slot['start']} with {name}")
    pause()
    held = r.hold(kind["id"], offered[0])
    print(f"hold: {held['id']} until {held['expires_at']}")
    pause()
    appt, etag = r.book(patient["id"], held["id"])
    print(f"booked: {appt['id']} at {appt['start']}")
    confirmed, etag = r.read(appt["id"])
    print(f"confirmed: {confirmed['status']} at {confirmed['start']} (version {etag})")
    if keep:
        return 0
    pause()
    moved = r.move(appt["id"], etag, offered[2])
    print(f"moved: {moved['id']} to {moved['start']}")
    pause()
    gone = r.cancel(appt["id"])
    print(f"cancelled: {gone['id']} ({gone['cancellation_reason']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="http://127.0.0.1:8765")
    p.add_argument("--key", required=True, help="an API key (fdk_…)")
    p.add_argument("--caller", required=True, help="the number the caller rang from")
    p.add_argument("--keep", action="store_true", help="stop after booking (no move, no cancel)")
    p.add_argument(
        "--step", action="store_true", help="wait for Enter after each step (watch the desks)"
    )
    args = p.parse_args(argv)
    try:
        call = Receptionist(args.server, args.key)
        return phone_call(call, args.caller, keep=args.keep, step=args.step)
    except Refused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except httpx.HTTPError as exc:
        print(f"the clinic server could not be reached: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
