"""The venue's forms as the browser sends them -> the values the server keeps (station settings, safety answers).

Each bad field is one sentence in both languages (the page shows it over the form it came from); nothing is
kept unless the whole form is good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.vocabulary import CredentialKind, words
from server.safety import ANSWERS, CRITERIA


class FormProblem(ValueError):
    """What is wrong with a form, in Vietnamese and in English."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.vi, self.en = vi, en

    def text(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en


def _whole(form: Mapping[str, str], name: str, low: int, high: int, vi: str, en: str) -> int | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise FormProblem(f"{vi}: một số nguyên từ {low} đến {high}.", f"{en}: a whole number from {low} to {high}.")
    return int(text)


def station_changes(form: Mapping[str, str]) -> dict[str, Any]:
    """The settings form -> `server.admin.update_station_config` changes (every setting, as the form shows all)."""
    credentials = [kind for kind in words(CredentialKind) if form.get(f"cred_{kind}") == "on"]
    if not credentials:
        raise FormProblem("Chọn ít nhất một loại mã được chấp nhận.", "Choose at least one accepted code.")
    cooldown = _whole(form, "cooldown_seconds", 0, 86_400, "Thời gian chờ", "Cooldown")
    closing = form.get("closing_time", "").strip()[:5]
    return {
        "mode": form.get("mode", ""),
        "capacity": _whole(form, "capacity", 1, 1_000_000, "Sức chứa", "Capacity"),
        "capacity_action": form.get("capacity_action", ""),
        "questionnaire_policy": form.get("questionnaire_policy", ""),
        "closing_time": closing,
        "cooldown_seconds": 60 if cooldown is None else cooldown,
        "accepted_credentials": credentials,
    }


def safety_answers(form: Mapping[str, str]) -> dict[str, str]:
    """The self-assessment form (`c_<criterion>` = yes / no / na) -> answers; every criterion must be answered."""
    answers = {criterion.key: form.get(f"c_{criterion.key}", "") for criterion in CRITERIA}
    missing = [criterion for criterion in CRITERIA if answers[criterion.key] not in ANSWERS]
    if missing:
        raise FormProblem(f"Chưa trả lời: {missing[0].vi}.", f"Not answered: {missing[0].en}.")
    return answers
