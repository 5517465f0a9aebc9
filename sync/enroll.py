"""Enrolment: trade a one-time code from IT staff for this kiosk's token, and keep it in the config file (0600)."""

from __future__ import annotations

import os
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import (
    ENV_PREFIX,
    ConfigError,
    default_config_path,
    is_plain_http_to_another_machine,
    settings_from_mapping,
    update_config_file,
)
from sync import clock, protocol, protocol_pull
from sync.transport import DEFAULT_TIMEOUT, Exchange, SyncError, Timeout, Transport, http_error, one_line


class EnrollError(Exception):
    """Enrolment failed; the message is one line for the person at the kiosk (no token in it)."""


UNREACHABLE_GRACE_S = 5.0  # how long an unreachable server is tried again before giving up


@dataclass(frozen=True)
class EnrollResult:
    kiosk_id: str
    venue_id: str
    config_path: Path
    clock_offset_s: float

    @property
    def clock_warning(self) -> bool:
        return clock.is_off(self.clock_offset_s)


def resolve_config_path(config_path: str | Path | None) -> Path:
    """The file `kiosk.config.load_settings` would read: the argument, else $QRC_CONFIG, else the default."""
    return Path(config_path or os.environ.get(ENV_PREFIX + "CONFIG") or default_config_path())


def enroll(
    server_url: str | None,
    code: str,
    config_path: str | Path | None = None,
    ca_file: str | None = None,
    *,
    timeout: Timeout = DEFAULT_TIMEOUT,
    allow_plain_http: bool = False,
) -> EnrollResult:
    """POST the code; on success write `[server] url`, `token` (and `ca_file`) into the config file.

    `code` may also be the text of the enrolment QR (`QRCK-ENROLL:<code>[@<server url>]`); its URL is used
    when `server_url` is not given."""
    from_qr = protocol_pull.parse_enrollment_qr(code)
    if from_qr is not None:
        code, qr_url = from_qr
        server_url = server_url or qr_url
    if not server_url:
        raise EnrollError("no server address: give --server URL (the enrolment QR did not carry one)")
    server_url = _check_url(server_url, allow_plain_http)
    normalised = protocol_pull.normalise_code(code)
    if not normalised:
        raise EnrollError("enrolment code is empty")
    path = resolve_config_path(config_path)
    values: dict[str, str | bool] = {"url": server_url, "token": "not-yet-enrolled"}
    if allow_plain_http:
        values["allow_plain_http"] = True
    if ca_file:
        values["ca_file"] = str(Path(ca_file).resolve())
    created = _check_writable(path, values)  # the code is single-use: never spend it on a file we cannot write
    try:
        answer, response = _post_code(server_url, normalised, ca_file, timeout)
    except EnrollError:
        _remove_folders(created)  # a refused code leaves nothing behind
        raise
    values["token"] = response.token
    try:
        update_config_file(path, "server", values)
    except (ConfigError, OSError) as exc:  # only if the disk changed in between: the check above passed
        raise EnrollError(one_line(f"enrolled, but cannot write {path}: {exc}; ask for a new code")) from None
    offset = clock.measure(response.server_time, answer.midpoint).offset_s
    return EnrollResult(response.kiosk_id, response.venue_id, path, offset)


def _post_code(
    server_url: str, code: str, ca_file: str | None, timeout: Timeout
) -> tuple[Exchange, protocol_pull.EnrollResponse]:
    """POST the code; the server's answer and what it says, or an EnrollError (refused, unreachable, ...)."""
    transport = Transport(server_url, ca_file=ca_file, timeout=timeout)
    deadline = time.monotonic() + UNREACHABLE_GRACE_S
    try:
        while True:
            answer = transport.request("POST", protocol.ENROLL_PATH, json_body=protocol_pull.enroll_request(code))
            # A server still starting (or restarting) refuses connections for a moment: try again briefly. A
            # refused connection carried no code; at worst a lost answer makes the retry a 401 (code used).
            if not (isinstance(answer, SyncError) and answer.kind == "unreachable") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        transport.close()
    if isinstance(answer, SyncError):
        raise EnrollError(f"enrolment failed: {answer.message}")
    if answer.status == 401:
        raise EnrollError("enrolment refused: the code is unknown, already used or expired; ask for a new one")
    if answer.status != 200:
        raise EnrollError(f"enrolment failed: {http_error(answer, 'server answered').message}")
    try:
        response = protocol_pull.EnrollResponse.from_json(answer.body)
    except protocol.ProtocolError as exc:
        raise EnrollError(one_line(f"enrolment failed: unreadable answer ({exc})")) from None
    return answer, response


def _check_writable(path: Path, values: Mapping[str, str | bool]) -> list[Path]:
    """Make sure `update_config_file(path, "server", values)` will succeed, before the code is spent: the
    existing file reads and would still read with `values`, its folder exists (created here if needed) and
    takes a new file (`update_config_file` writes a temporary file there and renames it over `path`).
    Returns the folders created, for `_remove_folders`. An EnrollError (one line) if not."""
    try:
        if path.is_dir():
            raise EnrollError(f"cannot write the configuration {path}: it is a folder; the code was not used")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        raw.setdefault("server", {}).update(values)
        settings_from_mapping(raw)
        created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # write access as the OS sees it (os.access says yes to root even on a read-only mount)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".probe"):
                pass
        except OSError:
            _remove_folders(created)
            raise
        return created
    except (ConfigError, tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise EnrollError(one_line(f"cannot write the configuration {path}: {reason}; the code was not used")) from None


def _remove_folders(created: list[Path]) -> None:
    """Remove the (still empty) folders `_check_writable` created, deepest first."""
    for folder in created:  # listed deepest first
        try:
            folder.rmdir()
        except OSError:
            pass


def _check_url(server_url: str, allow_plain_http: bool) -> str:
    url = server_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise EnrollError(f"server address must start with https:// (or http:// on a test network): {server_url!r}")
    if is_plain_http_to_another_machine(url) and not allow_plain_http:
        raise EnrollError(
            f"refusing plain http:// to another machine ({url}): the token would cross the network unencrypted; "
            "use https://, or --allow-plain-http on a closed test network"
        )
    return url
