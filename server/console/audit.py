"""The audit log: who traced, exported or looked at whose data, when, asking what, and how many people it
returned. Written in the same transaction as the read it records where it can; never changed or deleted by
the application (on PostgreSQL a trigger refuses UPDATE and DELETE, revision 0007)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, distinct, func, insert, select

from server.console.accounts import ConsoleUser
from server.models import audit_log, events

ACTIONS = {
    "trace": ("Truy vết", "Trace"),
    "trace_export": ("Xuất kết quả truy vết", "Trace export"),
    "person_view": ("Xem người khai báo", "Person viewed"),
    "person_search": ("Tìm người khai báo", "Person search"),
    "person_resolve": ("Giải quyết trùng số giấy tờ", "Conflict resolved"),
    "presence_view": ("Xem danh sách đang có mặt", "Who-is-inside viewed"),
    "presence_print": ("In danh sách sơ tán", "Evacuation list printed"),
    "venue_export": ("Xuất dữ liệu lượt ra vào của địa điểm", "Venue visits exported"),
    "login_failed": ("Đăng nhập sai mật khẩu", "Wrong password at login"),
}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    query: dict[str, Any]
    result_count: int
    client: str


def record_audit(
    conn: Connection,
    user: ConsoleUser | None,
    action: str,
    query: Mapping[str, Any],
    result_count: int,
    *,
    at: datetime,
    client: str = "",
    actor: str | None = None,
    role: str | None = None,
) -> None:
    """One line of the audit log. `user` None: an API token or the CLI, named by `actor` ("token:ID", "cli:USER")
    with its `role`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    conn.execute(
        insert(audit_log).values(
            at=at,
            user_id=user.id if user else None,
            actor=actor or (f"console:{user.username}" if user else "unknown"),
            role=user.role if user else role or "unknown",
            action=action,
            query=json.dumps(dict(query), ensure_ascii=False, sort_keys=True, default=str),
            result_count=result_count,
            client=client[:64],
        )
    )


def audit_entries(conn: Connection, limit: int = 200, before_id: int | None = None) -> list[AuditEntry]:
    """The newest entries first (`before_id`: the page after one ending at that id)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    return [
        AuditEntry(r.id, r.at, r.actor, r.role, r.action, json.loads(r.query), r.result_count, r.client)
        for r in conn.execute(query)
    ]


def audit_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def audit_venue_export(engines: tuple[Engine, Engine], venue_id: int, *, actor: str, role: str) -> None:
    """An export of a venue's visits is a view of its visitors' data: counted on the first engine (a standby under
    QRCK_READ_DB) and audited through the second, the primary, before a row leaves."""
    read_engine, primary = engines
    with read_engine.connect() as conn:
        people = conn.execute(
            select(func.count(distinct(events.c.id_number))).where(events.c.venue_id == venue_id)
        ).scalar_one()
    with primary.begin() as conn:
        asked = {"mode": "venue_export", "venue_id": venue_id}
        record_audit(conn, None, "venue_export", asked, int(people), at=datetime.now(UTC), actor=actor, role=role)
