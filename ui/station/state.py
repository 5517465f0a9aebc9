"""What the station's flows share: the settings in force and the run-time switches, and the services
`ui/app.py` builds for the station (the station builds none itself)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.config import Settings
from kiosk.retention import RetentionReport
from kiosk.sources.base import FrameSource
from ui.protocols import Enroll, ServerConfigReader, SyncFactory, SyncSetup
from ui.runtime.tasks import TaskRunner


@dataclass(frozen=True)
class StationServices:
    """The factories and runners the station needs, built by the composition root (ui/app.py)."""

    open_source: Callable[[str], FrameSource]  # a camera / video / demo spec -> an opened source
    tasks: TaskRunner  # every one-shot job off the GUI thread goes through it
    sync_factory: SyncFactory  # settings -> sync worker (again after an enrolment)
    enroll: Enroll  # trade a one-time code for this kiosk's token
    server_config: ServerConfigReader  # the file's settings with the server's pulled configuration over them
    retention: Callable[[int, datetime], RetentionReport]  # (retention_days, now): purge what the period allows


@dataclass
class StationState:
    """Mutable, GUI thread only."""

    settings: Settings  # in force: the config file's values with the server's over them
    base_settings: Settings  # the config file (plus command-line options): what the server's config goes over
    # Command-line values that outlive a reload of the config file, e.g. {"ui": {"daily_health_update": True}}.
    command_line: dict[str, dict[str, Any]] = field(default_factory=dict)
    health_mode: bool = False  # daily health update: every scan asks the questionnaire with a temperature
    sync: SyncSetup = field(default_factory=SyncSetup)
