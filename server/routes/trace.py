"""What the health authority calls: who was at the same venue at the same time as this person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from kiosk.csvsafe import iter_safe_csv
from server.routes.deps import AuthorityDep, EngineDep, ReadEngineDep, SettingsDep
from server.tracing import (
    MAX_WINDOW,
    TRACE_CSV_HEADER,
    TraceSettings,
    trace,
    trace_csv_rows,
    trace_json,
    unverified_visits,
)
from sync.protocol import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["tracing"])
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def as_utc(moment: datetime, zone: tzinfo = UTC) -> datetime:
    """A time in UTC; a naive one is read in `zone` (the server's time zone, ServerSettings.timezone).
    ValueError for a time with no UTC equivalent (9999-12-31T23:59:59-23:59 is in the year 10000 in UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{moment.isoformat()} is outside the years 1-9999 in UTC") from None


def check_window(start: datetime, end: datetime) -> str | None:
    """Why the window is unusable, or None."""
    if not (EARLIEST <= start < LATEST and EARLIEST <= end <= LATEST):
        return "from/to must lie between 2020 and 2100"
    if end <= start:
        return "'to' must be after 'from'"
    if end - start > MAX_WINDOW:
        return f"window longer than {MAX_WINDOW.days} days"
    return None


@dataclass(frozen=True)
class Auditee:
    """Who asked for a trace outside the console (an API token, the CLI's operator), for the audit log."""

    actor: str  # "token:ID", "cli:USER"
    role: str
    exported: bool = False


def run_trace(
    engines: tuple[Any, Any], id_number: str, start: datetime, end: datetime, settings: TraceSettings, who: Auditee
) -> dict[str, Any]:
    """The trace report, read from the first engine (a standby under QRCK_READ_DB) and written to the audit log
    (who, the query, how many people) through the second, the primary: a standby cannot take the write, and no
    report leaves before its audit line is committed."""
    from server.console.audit import record_audit

    read_engine, write_engine = engines
    with read_engine.connect() as conn:
        visits = trace(conn, id_number, start, end, settings)
        unverified = unverified_visits(conn, id_number, start, end, settings)
        report = trace_json(conn, id_number, start, end, settings, visits, unverified)
    asked = {"mode": "id_number", "id_number": id_number, "from": start.isoformat(), "to": end.isoformat()}
    action = "trace_export" if who.exported else "trace"
    people = report["contact_count"] + 1
    with write_engine.begin() as conn:
        record_audit(conn, None, action, asked, people, at=datetime.now(UTC), actor=who.actor, role=who.role)
    return report


@router.get("/trace", summary="A person's visits and their co-visitors (health authority)")
async def get_trace(
    principal: AuthorityDep,
    read_engine: ReadEngineDep,
    engine: EngineDep,
    settings: SettingsDep,
    id_number: Annotated[str, Query(min_length=1, max_length=100)],
    start: Annotated[datetime, Query(alias="from")],
    end: Annotated[datetime, Query(alias="to")],
    margin_minutes: Annotated[float | None, Query(ge=0, le=24 * 60)] = None,
    default_stay_minutes: Annotated[float | None, Query(gt=0, le=24 * 60)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    try:
        start, end = as_utc(start, settings.zone), as_utc(end, settings.zone)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    problem = check_window(start, end)
    if problem:
        raise HTTPException(status_code=422, detail=problem)
    if "\x00" in id_number:
        raise HTTPException(status_code=422, detail="id_number contains a NUL")
    base = settings.trace
    chosen = TraceSettings(
        default_stay=timedelta(minutes=default_stay_minutes) if default_stay_minutes else base.default_stay,
        margin=timedelta(minutes=margin_minutes) if margin_minutes is not None else base.margin,
        max_stay=base.max_stay,
    )
    who = Auditee(f"token:{principal.token_id}", principal.role, exported=format == "csv")
    report = await run_in_threadpool(run_trace, (read_engine, engine), id_number, start, end, chosen, who)
    if format == "csv":
        chunks = (c.encode() for c in iter_safe_csv(TRACE_CSV_HEADER, trace_csv_rows(report)))
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8")
    return report
