"""One typed settings object, read once from a TOML file and the environment, then passed in (never a global).

File: `--config PATH`, else `$QRC_CONFIG`, else platformdirs' user config dir (`.../qr-checkpoint/config.toml`).
A missing file means defaults. Environment: `QRC_<SECTION>__<KEY>=value` (e.g. `QRC_STATION__MODE=exit`)
overrides the file. Any unknown key or bad value is a `ConfigError` whose message is one line naming the key.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import platformdirs

from kiosk.vocabulary import (
    CapacityAction,
    CredentialKind,
    QuestionnairePolicy,
    SafetyLevel,
    StationMode,
    SymptomPolicy,
    words,
)

APP_NAME = "qr-checkpoint"
ENV_PREFIX = "QRC_"
CREDENTIAL_KINDS = words(CredentialKind)
DECODER_ENGINES = ("zxing", "zbar")
_NAME_LISTS = {"station.accepted_credentials": CREDENTIAL_KINDS, "camera.engines": DECODER_ENGINES}


class ConfigError(Exception):
    """A configuration problem, in one line naming the key."""


@dataclass(frozen=True)
class StationSettings:
    mode: str = "auto"  # entry | exit | auto
    cooldown_seconds: int = 60
    capacity: int = 0  # 0: no limit
    capacity_action: str = "block"  # block | warn
    accepted_credentials: tuple[str, ...] = CREDENTIAL_KINDS
    accept_unknown: bool = False  # accept any QR as an opaque id (e.g. a company badge)
    closing_time: str = ""  # "HH:MM" local time: everyone still inside is checked out; "" for never
    questionnaire: str = "assisted"  # never | assisted | always
    symptom_policy: str = "refuse"  # refuse | alert (admit flagged): the same answer for every path
    declaration_max_age_hours: int = 0  # personal QR: require a declaration this recent (0: not required)
    dcc_required: bool = False
    venue_name: str = ""
    language: str = "vi"  # vi | en
    retention_days: int = 21
    timezone: str = "Asia/Ho_Chi_Minh"
    # The venue's self-assessed COVID safety level, shown on the idle screen; normally set by the venue manager
    # on the central server and pulled by sync.
    safety_level: str = ""  # "" (not assessed), green, yellow, orange, red
    safety_assessed_on: str = ""  # YYYY-MM-DD


@dataclass(frozen=True)
class CameraSettings:
    source: str = "0"  # webcam index, device path, RTSP/HTTP URL, video file, image folder, or "demo"
    width: int = 1280
    height: int = 720
    engines: tuple[str, ...] = ("zxing", "zbar")
    budget_ms: float = 25.0  # per-frame decoding budget, fallbacks included
    stable_frames: int = 2  # a code must be read on this many consecutive frames before it counts


@dataclass(frozen=True)
class StoreSettings:
    db_path: str = ""  # "" : platformdirs' user data dir / events.sqlite3


@dataclass(frozen=True)
class ServerLinkSettings:
    """The `[server]` section: how this kiosk reaches the central server (not the server's own settings)."""

    url: str = ""
    token: str = ""
    ca_file: str = ""
    timeout_seconds: float = 15.0
    sync_interval_seconds: float = 30.0
    batch_size: int = 500
    allow_plain_http: bool = False  # http:// to a server that is not this machine (a test network only)


@dataclass(frozen=True)
class UiSettings:
    kiosk_mode: bool = False  # full screen; Escape, Alt+F4 and closing need the PIN
    pin_hash: str = ""
    result_hold_seconds: float = 4.0
    scanner_port: str = ""  # serial scanner, e.g. /dev/ttyACM0
    sound: bool = True
    daily_health_update: bool = False  # quarantine sites: every scan asks the questionnaire with a temperature
    guard_full_names: bool = False  # guard panel shows full names (evacuation roll-call); else masked like the screen
    on_screen_keyboard: bool = False  # touch-only kiosk: Qt Virtual Keyboard for every text field
    questionnaire_timeout_seconds: float = 60.0  # an untouched questionnaire goes back to the door, nothing recorded


@dataclass(frozen=True)
class Settings:
    station: StationSettings = field(default_factory=StationSettings)
    camera: CameraSettings = field(default_factory=CameraSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    server: ServerLinkSettings = field(default_factory=ServerLinkSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    path: str = ""  # the file these came from (where `kiosk enroll` and the settings screen write)


_CHOICES: dict[str, tuple[str, ...]] = {
    "station.mode": words(StationMode),
    "station.capacity_action": words(CapacityAction),
    "station.questionnaire": words(QuestionnairePolicy),
    "station.symptom_policy": words(SymptomPolicy),
    "station.language": ("vi", "en"),
    "station.safety_level": ("", *words(SafetyLevel)),
}
_NON_NEGATIVE = {
    "station.cooldown_seconds",
    "station.capacity",
    "station.retention_days",
    "station.declaration_max_age_hours",
    "server.sync_interval_seconds",
}
_POSITIVE = {
    "camera.width",
    "camera.height",
    "camera.stable_frames",
    "camera.budget_ms",
    "server.batch_size",
    "server.timeout_seconds",
}


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME)) / "events.sqlite3"


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the file at `path` (or the default location) overlaid with the environment."""
    env = os.environ if env is None else env
    config_path = Path(path or env.get(ENV_PREFIX + "CONFIG") or default_config_path())
    raw = _read_toml(config_path)
    for (section, key), value in _env_overrides(env).items():
        raw.setdefault(section, {})[key] = value
    settings = settings_from_mapping(raw)
    return dataclasses.replace(settings, path=str(config_path))


def settings_from_mapping(raw: Mapping[str, Any]) -> Settings:
    """Build and validate Settings from a {section: {key: value}} mapping (file, environment or server)."""
    sections = {f.name: f for f in dataclasses.fields(Settings) if f.name != "path"}
    built: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in sections:
            raise ConfigError(f"{name}: unknown section (known: {', '.join(sections)})")
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a table of settings")
        built[name] = _build_section(name, _section_type(sections[name]), value)
    settings = Settings(**built)
    _check_server_link(settings.server)
    return settings


def with_overrides(settings: Settings, section: str, values: Mapping[str, Any]) -> Settings:
    """A copy of `settings` with some keys of one section replaced, validated (e.g. config from the server)."""
    current = dataclasses.asdict(getattr(settings, section))
    current.update(values)
    merged = settings_from_mapping({section: current})
    return dataclasses.replace(settings, **{section: getattr(merged, section)})


def update_config_file(path: str | Path, section: str, values: Mapping[str, Any]) -> None:
    """Write some keys of one section into the TOML file at `path`, creating it (mode 0600: it holds a token)."""
    import tomli_w  # only the commands that write configuration need it

    path = Path(path)
    raw = _read_toml(path)
    raw.setdefault(section, {}).update(values)
    settings_from_mapping(raw)  # refuse to write something we could not read back
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        tomli_w.dump(raw, out)
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None


def _env_overrides(env: Mapping[str, str]) -> dict[tuple[str, str], str]:
    overrides = {}
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and "__" in name:
            section, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
            overrides[(section, key)] = value
    return overrides


def _section_type(section_field: dataclasses.Field[Any]) -> type:
    section: type = typing.get_type_hints(Settings)[section_field.name]
    return section


def _build_section(name: str, cls: type, values: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(f"{name}.{key}: unknown setting (known: {', '.join(hints)})")
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value)
    return cls(**kwargs)


def _coerce(key: str, hint: Any, value: Any) -> Any:
    """Check and convert one value; strings (from the environment) are parsed as the type wants."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        items = [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
            raise ConfigError(f"{key}: expected a list of names, got {value!r}")
        known = _NAME_LISTS.get(key, ())
        unknown = sorted(set(items) - set(known))
        if unknown:
            raise ConfigError(f"{key}: unknown name {unknown[0]!r} (known: {', '.join(known)})")
        if not items:
            raise ConfigError(f"{key}: name at least one of {', '.join(known)}")
        return tuple(items)
    if isinstance(hint, types.UnionType):
        hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
    converted = _convert_scalar(key, hint, value)
    if key in _CHOICES and converted not in _CHOICES[key]:
        raise ConfigError(f"{key}: {converted!r} is not one of {', '.join(_CHOICES[key])}")
    if key in _NON_NEGATIVE and converted < 0 or key in _POSITIVE and converted <= 0:
        raise ConfigError(f"{key}: {converted!r} is out of range")
    if key == "station.closing_time" and converted:
        _check_clock_time(key, converted)
    if key == "station.timezone":
        _check_timezone(key, converted)
    return converted


def _convert_scalar(key: str, hint: type, value: Any) -> Any:
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        try:
            number = hint(value)
            if hint is float and not math.isfinite(number):
                raise ValueError(value)
        except (TypeError, ValueError, OverflowError):
            kind = "a whole number" if hint is int else "a number"
            raise ConfigError(f"{key}: expected {kind}, got {value!r}") from None
        if hint is int and isinstance(value, float) and value != number:
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{key}: expected text, got {value!r}")
    return value


def is_plain_http_to_another_machine(url: str) -> bool:
    """An http:// URL whose host is not this machine: the token and visitors' data would cross the network in
    clear text."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _check_server_link(server: ServerLinkSettings) -> None:
    if server.url and not server.allow_plain_http and is_plain_http_to_another_machine(server.url):
        raise ConfigError(
            "server.url: plain http:// to another machine sends the token and visitors' data unencrypted: "
            "use https://, or set server.allow_plain_http = true on a closed test network"
        )


def _check_timezone(key: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{key}: unknown time zone {name!r} (e.g. Asia/Ho_Chi_Minh)") from None


def _check_clock_time(key: str, text: str) -> None:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigError(f"{key}: expected HH:MM, got {text!r}")
