"""A server-drawn SVG timeline of one visit: the traced person's stay, each co-visitor's, and the time they
shared (no script, no library: the template draws these rectangles)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.console.trace_search import PersonRow, VisitRow

WIDTH = 480  # viewBox units; the SVG scales to the page width (at most 44rem wide: console.css)
LEFT, RIGHT = 18, 18  # room for the first and last tick's label
ROW = 32  # a row: its label above, its bar below
TOP = 24  # the time axis
MAX_ROWS = 40  # beyond this the table below has them all


@dataclass(frozen=True)
class Bar:
    y: float
    x: float
    width: float
    label: str
    subject: bool
    shared_x: float = 0.0
    shared_width: float = 0.0


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    hidden: int  # contacts not drawn (MAX_ROWS)


def _tick_step(span: timedelta) -> timedelta:
    for minutes in (15, 30, 60, 120, 180, 360, 720, 1440):
        if span / timedelta(minutes=minutes) <= 6:
            return timedelta(minutes=minutes)
    return timedelta(days=max(1, span.days // 6))


def visit_timeline(visit: VisitRow, zone: ZoneInfo) -> Timeline:
    rows: list[PersonRow] = visit.contacts[:MAX_ROWS]
    starts = [visit.subject.start, *(row.start for row in rows)]
    ends = [visit.subject.end, *(row.end for row in rows)]
    t0, t1 = min(starts), max(ends)
    span = max(t1 - t0, timedelta(minutes=1))
    scale = (WIDTH - LEFT - RIGHT) / span.total_seconds()

    def x(moment: datetime) -> float:
        return round(LEFT + (moment - t0).total_seconds() * scale, 1)

    subject = visit.subject
    bars = [Bar(TOP + 12, x(subject.start), max(x(subject.end) - x(subject.start), 1.5), subject.full_name, True)]
    for index, row in enumerate(rows, start=1):
        shared_start, shared_end = max(row.start, subject.start), min(row.end, subject.end)
        shared = shared_end > shared_start
        bars.append(
            Bar(
                TOP + 12 + index * ROW,
                x(row.start),
                max(x(row.end) - x(row.start), 1.5),
                f"{row.full_name} · {row.shared_minutes:g} min",
                False,
                x(shared_start) if shared else 0.0,
                x(shared_end) - x(shared_start) if shared else 0.0,
            )
        )
    step = _tick_step(span)
    local0 = t0.astimezone(zone)
    first = local0.replace(minute=0, second=0, microsecond=0)
    ticks, moment = [], first
    while moment <= t1:
        if moment >= t0:
            ticks.append(Tick(x(moment), moment.strftime("%H:%M" if step < timedelta(days=1) else "%d/%m")))
        moment += step
    height = TOP + 12 + len(rows) * ROW + 24
    return Timeline(WIDTH, height, bars, ticks, len(visit.contacts) - len(rows))
