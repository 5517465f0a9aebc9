"""The official EU DCC test cases in shared/testdata/dcc: where they are, how to read one and its clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.paths import SHARED_TESTDATA

DATA_DIR = SHARED_TESTDATA / "dcc"


def load_case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8-sig"))


def validation_clock(case: dict[str, Any]) -> datetime:
    text = case["TESTCTX"]["VALIDATIONCLOCK"].replace("Z", "+00:00")
    head, sep, tail = text.partition(".")
    if sep:  # some issuers write 7 fractional digits; Python reads at most 6
        digits = "".join(ch for ch in tail if ch.isdigit())
        tail = digits[:6] + tail[len(digits) :]
        text = head + "." + tail
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
