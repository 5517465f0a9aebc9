"""The COVID safety self-assessment a venue makes (in the spirit of antoancovid.vn and the Steering Committee's
checklists, e.g. Decision 2225/QĐ-BCĐQG for shops, markets and restaurants, and Ho Chi Minh City's 100-point
sets): criteria with points, answered yes / no / not applicable; the score is the share of the applicable points
met; the level the stations show follows from it.

Levels (the four colours of `kiosk.vocabulary.SafetyLevel`): green from 80 %, yellow from 65 %, orange from 50 %,
red below. A mandatory criterion answered "no" caps the level at orange, whatever the score: a venue without
check-in or masks is not "safe" however clean its counters are. This is a self-assessment, not an inspection;
the page says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from kiosk.vocabulary import SafetyLevel
from server.admin import Invalid, venue_row
from server.models import safety_assessments, venues

ANSWERS = ("yes", "no", "na")


@dataclass(frozen=True)
class Criterion:
    key: str
    points: int
    mandatory: bool
    vi: str
    en: str


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "checkin", 15, True, "Mọi người vào đều quét mã QR hoặc được ghi lại", "Everyone who enters is checked in"
    ),
    Criterion("masks", 15, True, "Nhân viên và khách đeo khẩu trang", "Staff and visitors wear masks"),
    Criterion(
        "hand_hygiene",
        10,
        True,
        "Có nước rửa tay hoặc dung dịch sát khuẩn ở lối vào",
        "Hand wash or sanitiser at the entrance",
    ),
    Criterion("temperature", 10, False, "Đo thân nhiệt ở lối vào", "Temperature checked at the entrance"),
    Criterion(
        "distance",
        10,
        False,
        "Giữ khoảng cách 1 m, giới hạn số người bên trong",
        "1 m distance, a limit on people inside",
    ),
    Criterion(
        "ventilation", 10, False, "Thông gió tốt, mở cửa sổ hoặc trao đổi khí", "Good ventilation or air exchange"
    ),
    Criterion(
        "disinfection",
        10,
        False,
        "Khử khuẩn bề mặt hay chạm (tay nắm cửa, quầy) hằng ngày",
        "Touched surfaces disinfected daily",
    ),
    Criterion(
        "isolation",
        10,
        False,
        "Có khu cách ly tạm thời và quy trình khi có người có triệu chứng",
        "An isolation area and a plan for a person with symptoms",
    ),
    Criterion(
        "staff_health",
        5,
        False,
        "Nhân viên được theo dõi sức khỏe, tiêm chủng đầy đủ",
        "Staff health monitored, staff vaccinated",
    ),
    Criterion(
        "responsible",
        5,
        False,
        "Có người phụ trách phòng chống dịch, niêm yết đường dây nóng",
        "A person in charge, the hotline posted",
    ),
)
_BY_KEY = {criterion.key: criterion for criterion in CRITERIA}
THRESHOLDS = ((80, SafetyLevel.GREEN), (65, SafetyLevel.YELLOW), (50, SafetyLevel.ORANGE))


@dataclass(frozen=True)
class Assessment:
    score: int  # percent of the applicable points met
    level: SafetyLevel
    failed_mandatory: tuple[str, ...]


def assess(answers: Mapping[str, str]) -> Assessment:
    """Score a complete set of answers; Invalid names the first criterion unanswered or answered oddly."""
    for criterion in CRITERIA:
        if answers.get(criterion.key) not in ANSWERS:
            raise Invalid(f"criterion {criterion.key!r}: answer yes, no or na")
    unknown = sorted(set(answers) - set(_BY_KEY))
    if unknown:
        raise Invalid(f"unknown criterion {unknown[0]!r}")
    applicable = [c for c in CRITERIA if answers[c.key] != "na" or c.mandatory]  # a mandatory one always counts
    possible = sum(c.points for c in applicable)
    met = sum(c.points for c in applicable if answers[c.key] == "yes")
    score = round(100 * met / possible) if possible else 0
    failed = tuple(c.key for c in CRITERIA if c.mandatory and answers[c.key] != "yes")
    level = next((lvl for floor, lvl in THRESHOLDS if score >= floor), SafetyLevel.RED)
    if failed and level in (SafetyLevel.GREEN, SafetyLevel.YELLOW):
        level = SafetyLevel.ORANGE
    return Assessment(score, level, failed)


def record_assessment(
    engine: Engine, venue_id: int, answers: Mapping[str, str], by: str, now: datetime, local_day: date
) -> Assessment:
    """Score the answers, keep them, and publish the level (with `local_day`) to the venue's kiosks."""
    result = assess(answers)
    with engine.begin() as conn:
        venue_row(conn, venue_id)
        conn.execute(
            insert(safety_assessments).values(
                venue_id=venue_id,
                assessed_at=now,
                assessed_by=by[:200],
                answers=json.dumps(dict(answers), sort_keys=True),
                score=result.score,
                level=result.level.value,
            )
        )
        conn.execute(  # what GET /config publishes: the kiosks show it after their next pull
            update(venues)
            .where(venues.c.id == venue_id)
            .values(safety_level=result.level.value, safety_assessed_on=local_day)
        )
    return result


def latest_assessment(conn: Connection, venue_id: int) -> dict[str, Any] | None:
    """The venue's newest assessment (answers, score, level, when, by whom), or None."""
    row = conn.execute(
        select(safety_assessments)
        .where(safety_assessments.c.venue_id == venue_id)
        .order_by(safety_assessments.c.assessed_at.desc(), safety_assessments.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return {
        "answers": json.loads(row.answers),
        "score": row.score,
        "level": row.level,
        "assessed_at": row.assessed_at,
        "assessed_by": row.assessed_by,
    }
