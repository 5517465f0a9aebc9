"""A small tracing scene for the console tests: two venues, a traced person and the people they met.

At "Chợ Bến Thành", two days ago at 10:00 UTC (17:00 in Ho Chi Minh City) for an hour, Trần Thị Bích (chip ID
card 079095000001) met: Lê Văn Cường (chip ID card, 30 minutes), Phạm Thị Dung (typed in by a guard with her
phone), Võ Minh Em (a self-declared personal QR with his phone) and "=cmd|' /C calc'!A0" (a hostile name).
Hồ Văn Xa came five hours later (no contact). The next day Lê Văn Cường met Đỗ Thị Giang at "Nhà văn hóa"
(a second-degree contact of the traced person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from kiosk.events import Direction, NewEvent

SUBJECT = "079095000001"
TYPED_PHONE = "0912345678"
DECLARED_PHONE = "0987654321"


@dataclass(frozen=True)
class Scene:
    market: int
    hall: int
    visit_start: datetime  # the traced person's entry
    declared_person: str  # Võ Minh Em's person id


def event(
    id_number: str,
    name: str,
    when: datetime,
    direction: Direction = Direction.ENTRY,
    credential: str = "cccd",
    **extra: object,
) -> NewEvent:
    return NewEvent(
        direction=direction,
        credential=credential,
        person_key=f"pk-{id_number or name}",
        id_number=id_number,
        full_name=name,
        date_of_birth=extra.pop("date_of_birth", None),  # type: ignore[arg-type]
        wall_time=when,
        monotonic_ns=1,
        **extra,  # type: ignore[arg-type]
    )


def visit(id_number: str, name: str, start: datetime, minutes: float, **extra: object) -> list[NewEvent]:
    return [
        event(id_number, name, start, **extra),
        event(id_number, name, start + timedelta(minutes=minutes), Direction.EXIT, **extra),
    ]


def seed_scene(engine: Engine, now: datetime | None = None) -> Scene:
    from server import admin
    from server.auth import Principal
    from server.ingest import ingest
    from server.persons import Claimant, claim_person
    from sync import protocol

    now = now or datetime.now(UTC)
    base = (now - timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    market, hall = admin.add_venue(engine, "Chợ Bến Thành"), admin.add_venue(engine, "Nhà văn hóa")
    declared = claim_person(engine, Claimant("Võ Minh Em", "079095000004", date(1990, 5, 17), DECLARED_PHONE))
    at_market = [
        *visit(SUBJECT, "Trần Thị Bích", base, 60, date_of_birth=date(1985, 3, 2)),
        *visit("079095000002", "Lê Văn Cường", base + timedelta(minutes=30), 60),
        *visit(
            "", "Phạm Thị Dung", base + timedelta(minutes=10), 20, credential="manual", details={"phone": TYPED_PHONE}
        ),
        *visit(declared, "Võ Minh Em", base + timedelta(minutes=40), 45, credential="personal"),
        *visit("079095000005", "=cmd|' /C calc'!A0", base + timedelta(minutes=5), 15),
        *visit("079095000006", "Hồ Văn Xa", base + timedelta(hours=5), 30),
    ]
    at_hall = [
        *visit("079095000002", "Lê Văn Cường", base + timedelta(days=1), 60),
        *visit("079095000007", "Đỗ Thị Giang", base + timedelta(days=1, minutes=15), 30),
    ]
    for venue_id, events in ((market, at_market), (hall, at_hall)):
        kiosk_id, _code = admin.add_kiosk(engine, venue_id)
        batch = protocol.Batch(kiosk_time=now, events=tuple(events))
        ingest(engine, batch, Principal("kiosk", venue_id, kiosk_id), now)
    return Scene(market, hall, base, declared)
