"""Wrong-password budgets that every worker of `serve --workers N` shares: each wrong password is a line of the
audit log ("login_failed", actor "login:NAME", the client's address), and a login is refused while the last
LOGIN_WINDOW holds the budget's count of them for that user name, or for that address. (Budgets kept in each
process's memory gave N times the budget.) Throttled attempts are not written, so one client adds at most its
budget of lines per window."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from server.console.audit import record_audit
from server.models import audit_log

LOGIN_WINDOW = timedelta(minutes=5)
FAILED = "login_failed"


def _actor(user_key: str) -> str:
    return f"login:{user_key}"[:200]


def _wait_for(conn: Connection, column: str, value: str, budget: int, now: datetime) -> int:
    """Seconds until the oldest of the last `budget` failures for this key leaves the window; 0 within budget."""
    if budget <= 0:
        return 0
    recent: list[datetime] = list(
        conn.execute(
            select(audit_log.c.at)
            .where(audit_log.c.action == FAILED, audit_log.c.at > now - LOGIN_WINDOW, audit_log.c[column] == value)
            .order_by(audit_log.c.at.desc())
            .limit(budget)
        ).scalars()
    )
    if len(recent) < budget:
        return 0
    return max(1, math.ceil((recent[-1] + LOGIN_WINDOW - now).total_seconds()))


def seconds_to_wait(conn: Connection, user_key: str, client: str, now: datetime, per_user: int, per_client: int) -> int:
    """0 when a login attempt may go ahead, else the seconds to wait (Retry-After)."""
    return max(
        _wait_for(conn, "actor", _actor(user_key), per_user, now),
        _wait_for(conn, "client", client[:64], per_client, now),
    )


def record_failure(conn: Connection, user_key: str, client: str, now: datetime) -> None:
    record_audit(conn, None, FAILED, {"username": user_key}, 0, at=now, client=client, actor=_actor(user_key), role="-")
