"""Helpers of the central-server tests ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kiosk.events import Direction, NewEvent
from sync import protocol


@dataclass
class ServerEnv:
    client: TestClient
    engine: Engine
    venue_id: int
    kiosk_token: str
    kiosk_id: int

    def headers(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.kiosk_token}"}

    def new_kiosk(self, venue_id: int) -> tuple[str, int]:
        from server import admin

        _, code = admin.add_kiosk(self.engine, venue_id)
        answer = self.client.post(protocol.ENROLL_PATH, json={"code": code})
        assert answer.status_code == 200, answer.text
        return answer.json()["token"], int(answer.json()["kiosk_id"])

    def stored(self, venue_id: int | None = None) -> list[str]:
        from server.models import events

        query = select(events.c.uuid)
        if venue_id is not None:
            query = query.where(events.c.venue_id == venue_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def push(self, events: list[NewEvent], token: str | None = None, kiosk_time: datetime | None = None):  # noqa: ANN201
        body = protocol.encode_batch(events, kiosk_time or datetime.now(UTC))
        return self.client.post(
            protocol.EVENTS_PATH, content=body, headers={**self.headers(token), "Content-Type": "application/json"}
        )


def make_event(
    id_number: str = "079095001234",
    direction: Direction = Direction.ENTRY,
    wall_time: datetime | None = None,
    name: str = "Nguyễn Văn An",
    person_key: str | None = None,
    **extra,
) -> NewEvent:  # noqa: ANN003
    return NewEvent(
        direction=direction,
        credential="cccd",
        person_key=person_key or f"pk-{id_number}",
        id_number=id_number,
        full_name=name,
        date_of_birth=None,
        wall_time=wall_time or datetime.now(UTC) - timedelta(minutes=5),
        monotonic_ns=123,
        **extra,
    )
