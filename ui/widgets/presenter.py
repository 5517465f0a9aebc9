"""What the result panel shows for a ScanResult: colour, icon, headline, plain reason, masked name, time.

Decisions come from the core; here they only become words and colours. Reasons are translated by the core's
stable `reason_code` (its `reason` text is English, for logs). Names and IDs are always masked (kiosk.privacy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication

from kiosk.pipeline import ScanResult
from kiosk.privacy import mask_id, mask_name

# (background, foreground, icon, sound) per outcome. Colours meet WCAG AA for their text colour.
STYLES = {
    "entry": ("#1b7f3b", "#ffffff", "entry.svg", "accept"),
    "exit": ("#1f5fae", "#ffffff", "exit.svg", "accept"),
    # Already recorded is not a problem: slate with a clock, never the amber "needs attention" triangle.
    "duplicate": ("#3d4f63", "#ffffff", "duplicate.svg", "warn"),
    "warning": ("#f2b21b", "#1a1a1a", "warning.svg", "warn"),
    "rejected": ("#b3261e", "#ffffff", "rejected.svg", "reject"),
    "full": ("#b3261e", "#ffffff", "full.svg", "reject"),
}


def headline(outcome: str) -> str:
    names = {
        "entry": QCoreApplication.translate("Result", "ENTRY"),
        "exit": QCoreApplication.translate("Result", "EXIT"),
        "duplicate": QCoreApplication.translate("Result", "RECORDED"),
        "warning": QCoreApplication.translate("Result", "SEE THE STAFF"),
        "rejected": QCoreApplication.translate("Result", "NOT ACCEPTED"),
        "full": QCoreApplication.translate("Result", "VENUE FULL"),
    }
    return names.get(outcome, outcome.upper())


def reason_text(reason_code: str, fallback: str = "") -> str:
    """A short plain sentence for the visitor, by the core's reason code."""
    reasons = {
        "duplicate": QCoreApplication.translate("Result", "You were already recorded a moment ago"),
        "full": QCoreApplication.translate("Result", "The venue is full. Please wait outside"),
        "malformed": QCoreApplication.translate(
            "Result", "This code cannot be read. Please show your personal QR code"
        ),
        "unknown_format": QCoreApplication.translate(
            "Result", "This is not a personal QR code. Please show your CCCD or personal QR"
        ),
        "too_large": QCoreApplication.translate(
            "Result", "This is not a personal QR code. Please show your CCCD or personal QR"
        ),
        "not_accepted": QCoreApplication.translate(
            "Result", "This kind of code is not accepted here. Please show another one, or see the staff"
        ),
        "bad_signature": QCoreApplication.translate("Result", "This code is not genuine. Please see the staff"),
        "unknown_key": QCoreApplication.translate("Result", "This code cannot be verified. Please see the staff"),
        "expired": QCoreApplication.translate(
            "Result", "This code has expired. Please show a new one, or see the staff"
        ),
        "revoked": QCoreApplication.translate("Result", "This code has been cancelled. Please see the staff"),
        "key_usage": QCoreApplication.translate("Result", "This certificate is not valid here. Please see the staff"),
        "dcc_required": QCoreApplication.translate(
            "Result", "A vaccination certificate is required here. Please show it, or see the staff"
        ),
        "symptoms": QCoreApplication.translate("Result", "Health declaration reports symptoms. Please see the staff"),
        "needs_declaration": QCoreApplication.translate("Result", "Please make a health declaration first"),
        "store_error": QCoreApplication.translate("Result", "Could not save. Please see the staff"),
        "see_staff": QCoreApplication.translate("Result", "Please see the staff"),
        "cancelled": QCoreApplication.translate("Result", "Declaration not completed. Please see the staff"),
    }
    if reason_code in reasons:
        return reasons[reason_code]
    return fallback or QCoreApplication.translate("Result", "Please see the staff")


# Why an entry was recorded but needs the staff, and what the visitor does next, by the flag that caused it.
ATTENTION_FLAGS = ("symptoms", "id_mismatch", "unsafe_text")


def attention_reason(flags: tuple[str, ...]) -> str:
    """The amber screen's sentence: never the headline again, always the cause and the next step."""
    if "symptoms" in flags:
        return QCoreApplication.translate(
            "Result", "Entry recorded, but your health declaration reports symptoms. Please wait for the staff"
        )
    if "id_mismatch" in flags:
        return QCoreApplication.translate(
            "Result", "Entry recorded, but the ID number does not match the card. Please show your ID to the staff"
        )
    return QCoreApplication.translate(
        "Result", "Entry recorded, but the code has unusual text. Please show your ID to the staff"
    )


@dataclass(frozen=True)
class ResultView:
    """Everything the panel draws; plain values, easy to assert in tests."""

    outcome: str  # style key: entry exit duplicate warning rejected full
    title: str
    reason: str
    name: str  # masked
    id_tail: str  # masked
    time_text: str
    occupancy_text: str
    background: str
    foreground: str
    icon: str
    sound: str
    flagged: bool


def local_time_text(moment: datetime, timezone: str) -> str:
    try:
        zone = ZoneInfo(timezone)
    except (KeyError, ValueError):
        zone = None
    return moment.astimezone(zone).strftime("%H:%M:%S")


def occupancy_text(occupancy: int, capacity: int) -> str:
    return f"{occupancy} / {capacity}" if capacity else str(occupancy)


def present(
    result: ScanResult, occupancy: int, capacity: int, timezone: str, flags: tuple[str, ...] = ()
) -> ResultView:
    """The view of one ScanResult."""
    decision = result.decision
    outcome = str(decision.outcome.value if hasattr(decision.outcome, "value") else decision.outcome)
    event = getattr(result, "event", None)
    all_flags = tuple(flags) + tuple(getattr(event, "flags", ()) or ())
    flagged = bool(set(all_flags) & set(ATTENTION_FLAGS))
    style_key = "warning" if outcome == "entry" and flagged else outcome
    background, foreground, icon, sound = STYLES.get(style_key, STYLES["rejected"])
    person = result.credential or result.rejection
    name = mask_name(getattr(person, "full_name", "") or "") if person is not None else ""
    id_tail = mask_id(getattr(person, "id_number", "") or "") if person is not None else ""
    if outcome in ("entry", "exit") and not flagged:
        welcome = QCoreApplication.translate("Result", "Welcome")
        reason = welcome if outcome == "entry" else QCoreApplication.translate("Result", "Goodbye, see you again")
    elif flagged and outcome == "entry":
        reason = attention_reason(all_flags)
    else:
        reason = reason_text(decision.reason_code, decision.reason)
    if outcome == "duplicate" and decision.previous_time is not None:
        reason = QCoreApplication.translate("Result", "Already recorded at %1").replace(
            "%1", local_time_text(decision.previous_time, timezone)
        )
    return ResultView(
        style_key,
        headline(style_key),
        reason,
        name,
        id_tail,
        local_time_text(result.time, timezone),
        occupancy_text(occupancy, capacity),
        background,
        foreground,
        icon,
        sound,
        flagged,
    )


def log_line(result: ScanResult, occupancy: int, capacity: int) -> str:
    """One line per decision for stdout and the log file: masked name and ID only (never the full data)."""
    decision = result.decision
    person = result.credential or result.rejection
    name = mask_name(getattr(person, "full_name", "") or "") if person is not None else "-"
    id_tail = mask_id(getattr(person, "id_number", "") or "") if person is not None else "-"
    event = getattr(result, "event", None)
    flags = ",".join(getattr(event, "flags", ()) or ()) or "-"
    return (
        f"{result.time.isoformat(timespec='seconds')} {decision.outcome} reason={decision.reason_code or '-'} "
        f"name={name or '-'} id={id_tail or '-'} source={getattr(result, 'source', '-')} flags={flags} "
        f"occupancy={occupancy_text(occupancy, capacity)}"
    )


def cancelled_view(moment: datetime, timezone: str) -> ResultView:
    """The red screen after a visitor cancelled the health declaration (nothing was recorded)."""
    return message_view("rejected", headline("rejected"), reason_text("cancelled"), moment, timezone)


def message_view(style: str, title: str, reason: str, moment: datetime, timezone: str) -> ResultView:
    """A screen that is no visitor's decision (a cancelled declaration, this kiosk's enrolment)."""
    background, foreground, icon, sound = STYLES[style]
    return ResultView(
        style, title, reason, "", "", local_time_text(moment, timezone), "", background, foreground, icon, sound, False
    )
