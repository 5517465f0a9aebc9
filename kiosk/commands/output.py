"""How decisions are printed: JSON lines for operators and tests, one masked line for people."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from kiosk.pipeline import ScanResult
from kiosk.privacy import mask_id, mask_name


def result_record(result: ScanResult) -> dict[str, Any]:
    """The JSON object `kiosk scan --json` prints for one decision (ID number in full: operators only)."""
    decision, credential, rejection = result.decision, result.credential, result.rejection
    record: dict[str, Any] = {
        "time": result.time.isoformat(timespec="milliseconds"),
        "decision": decision.outcome.value,
        "credential": credential.kind if credential else (rejection.kind if rejection else "unknown"),
        "id_number": result.id_number,
        "full_name": credential.full_name if credential else (rejection.full_name if rejection else ""),
        "date_of_birth": credential.date_of_birth.isoformat() if credential and credential.date_of_birth else None,
        "source": result.source,
    }
    if decision.reason_code:
        record["reason_code"] = decision.reason_code
        record["reason"] = decision.reason
    if decision.warnings:
        record["warnings"] = list(decision.warnings)
    if decision.previous_time is not None:
        record["previous_time"] = decision.previous_time.astimezone(result.time.tzinfo).isoformat(
            timespec="milliseconds"
        )
    if result.event is not None:
        record["uuid"] = result.event.uuid
    return record


def masked_line(result: ScanResult) -> str:
    """One line safe for a screen or a log: the name masked, at most the last 4 digits of the ID."""
    record = result_record(result)
    parts = [
        record["time"],
        record["decision"].upper(),
        record["credential"],
        mask_name(record["full_name"]),
        mask_id(record["id_number"]),
    ]
    if result.decision.reason:
        parts.append(result.decision.reason)
    if result.decision.warnings:
        parts.append("warnings: " + ", ".join(result.decision.warnings))
    return "  ".join(part for part in parts if part)


def emit(result: ScanResult, as_json: bool, stream: TextIO = sys.stdout) -> None:
    line = json.dumps(result_record(result), ensure_ascii=False) if as_json else masked_line(result)
    stream.write(line + "\n")
    stream.flush()  # a decision printed is a decision recorded: never leave it in a buffer
