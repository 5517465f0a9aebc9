"""The COVID safety self-assessment: the score, the level and its cap, and the level reaching the kiosks."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server import admin
from server.safety import CRITERIA, assess, latest_assessment, record_assessment
from sync import protocol
from tests.support.server_env import ServerEnv


def _answers(default: str = "yes", **changes: str) -> dict[str, str]:
    return {**{c.key: default for c in CRITERIA}, **changes}


def test_points_make_the_score_and_the_score_the_level() -> None:
    assert (assess(_answers()).score, assess(_answers()).level) == (100, "green")
    assert sum(c.points for c in CRITERIA) == 100
    # temperature (10) and ventilation (10) missing: 80 % is still green
    assert assess(_answers(temperature="no", ventilation="no")).level == "green"
    # three optional criteria missing (30 points): 70 %, yellow
    assert assess(_answers(temperature="no", ventilation="no", distance="no")).level == "yellow"
    low = assess(_answers("no", checkin="yes", masks="yes", hand_hygiene="yes"))
    assert (low.score, low.level) == (40, "red")


def test_not_applicable_leaves_the_criterion_out_but_a_mandatory_one_always_counts() -> None:
    assert assess(_answers(temperature="na", isolation="na")).score == 100
    capped = assess(_answers(masks="no"))  # 85 %, but masks are mandatory
    assert (capped.score, capped.level, capped.failed_mandatory) == (85, "orange", ("masks",))
    assert assess(_answers(checkin="na")).failed_mandatory == ("checkin",)


@pytest.mark.parametrize("answers", [{}, _answers(masks="maybe"), {**_answers(), "astrology": "yes"}])
def test_an_incomplete_or_odd_assessment_is_refused(answers: dict[str, str]) -> None:
    with pytest.raises(admin.Invalid):
        assess(answers)


def test_the_level_is_published_to_the_kiosks_and_kept_with_its_answers(env: ServerEnv) -> None:
    now = datetime.now(UTC)
    result = record_assessment(
        env.engine,
        env.venue_id,
        _answers(distance="no", ventilation="no", temperature="no"),
        "manager An",
        now,
        date(2026, 12, 2),
    )
    assert result.level == "yellow"
    answer = env.client.get(protocol.CONFIG_PATH, headers=env.headers())
    assert answer.json()["safety"] == {"level": "yellow", "assessed_on": "2026-12-02"}
    with env.engine.connect() as conn:
        kept = latest_assessment(conn, env.venue_id)
    assert kept is not None and kept["score"] == 70 and kept["answers"]["distance"] == "no"
    assert kept["assessed_by"] == "manager An"
