"""The station settings a venue keeps on the server (`venues.station_config`, JSON) and how kiosks get them.

The protocol's own fields of GET /config (mode, capacity, cooldown, accepted credentials, questionnaire policy)
are sent as such; the others travel in `extra`, where the kiosk takes only its allow-list
(`sync.pull.SERVER_SETTABLE`). A kiosk applies them at its next pull: the station within a minute of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from kiosk.vocabulary import CapacityAction, CredentialKind, QuestionnairePolicy, StationMode, words

PROTOCOL_FIELDS = ("mode", "capacity", "cooldown_seconds", "accepted_credentials", "questionnaire_policy")
EXTRA_FIELDS = ("capacity_action", "closing_time", "declaration_max_age_hours", "dcc_required")
_CLOCK_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class InvalidSetting(ValueError):
    """A station setting that cannot be kept: the message names it."""


def _whole(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


_CHECKS: dict[str, Callable[[Any], bool]] = {
    "mode": lambda v: v in words(StationMode),
    "capacity": lambda v: v is None or _whole(1, 1_000_000)(v),
    "cooldown_seconds": _whole(0, 86_400),
    # Known kinds only (the kiosk refuses a configuration naming another), at least one: a door that accepts
    # nothing is a mistake, not a setting.
    "accepted_credentials": lambda v: (
        isinstance(v, list) and 0 < len(v) <= 20 and all(isinstance(x, str) and x in words(CredentialKind) for x in v)
    ),
    "questionnaire_policy": lambda v: v in words(QuestionnairePolicy),
    "capacity_action": lambda v: v in words(CapacityAction),
    "closing_time": lambda v: isinstance(v, str) and (v == "" or _CLOCK_TIME.fullmatch(v) is not None),
    "declaration_max_age_hours": _whole(0, 24 * 30),
    "dcc_required": lambda v: isinstance(v, bool),
}


def validate(changes: Mapping[str, Any]) -> None:
    """Raise InvalidSetting for an unknown setting or a bad value."""
    for key, value in changes.items():
        if key not in _CHECKS:
            raise InvalidSetting(f"unknown station setting {key!r}")
        if not _CHECKS[key](value):
            raise InvalidSetting(f"bad value for station setting {key!r}")


def remote_fields(stored: Mapping[str, Any]) -> dict[str, Any]:
    """`RemoteConfig` keyword arguments from a venue's stored settings: protocol fields, then `extra`."""
    fields: dict[str, Any] = {key: stored[key] for key in PROTOCOL_FIELDS if key in stored}
    if "accepted_credentials" in fields:
        fields["accepted_credentials"] = tuple(fields["accepted_credentials"])
    if "mode" in fields:
        fields["mode"] = StationMode(fields["mode"])
    if "questionnaire_policy" in fields:
        fields["questionnaire_policy"] = QuestionnairePolicy(fields["questionnaire_policy"])
    extra = {key: stored[key] for key in EXTRA_FIELDS if key in stored}
    if extra:
        fields["extra"] = extra
    return fields


def effective(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting as a kiosk will apply it: the stored ones over the station's defaults (for the form)."""
    return {
        "mode": StationMode.AUTO.value,
        "capacity": None,
        "capacity_action": CapacityAction.BLOCK.value,
        "cooldown_seconds": 60,
        "accepted_credentials": list(words(CredentialKind)),
        "questionnaire_policy": QuestionnairePolicy.ASSISTED.value,
        "closing_time": "",
        "declaration_max_age_hours": 0,
        "dcc_required": False,
        **{key: value for key, value in stored.items() if key in _CHECKS},
    }
