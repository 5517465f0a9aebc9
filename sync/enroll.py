"""Enrolment: trade a one-time code from IT staff for this kiosk's token, and keep it in the config file (0600)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import ENV_PREFIX, ConfigError, default_config_path, update_config_file
from sync import clock, protocol
from sync.transport import DEFAULT_TIMEOUT, SyncError, Timeout, Transport, http_error, one_line


class EnrollError(Exception):
    """Enrolment failed; the message is one line for the person at the kiosk (no token in it)."""


@dataclass(frozen=True)
class EnrollResult:
    kiosk_id: str
    venue_id: str
    config_path: Path
    clock_offset_s: float

    @property
    def clock_warning(self) -> bool:
        return abs(self.clock_offset_s) > clock.OFFSET_WARNING_S


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
) -> EnrollResult:
    """POST the code; on success write `[server] url`, `token` (and `ca_file`) into the config file.

    `code` may also be the text of the enrolment QR (`QRCK-ENROLL:<code>[@<server url>]`); its URL is used
    when `server_url` is not given."""
    from_qr = protocol.parse_enrollment_qr(code)
    if from_qr is not None:
        code, qr_url = from_qr
        server_url = server_url or qr_url
    if not server_url:
        raise EnrollError("no server address: give --server URL (the enrolment QR did not carry one)")
    server_url = _check_url(server_url)
    normalised = protocol.normalise_code(code)
    if not normalised:
        raise EnrollError("enrolment code is empty")
    transport = Transport(server_url, ca_file=ca_file, timeout=timeout)
    try:
        answer = transport.request("POST", protocol.ENROLL_PATH, json_body=protocol.enroll_request(normalised))
    finally:
        transport.close()
    if isinstance(answer, SyncError):
        raise EnrollError(f"enrolment failed: {answer.message}")
    if answer.status == 401:
        raise EnrollError("enrolment refused: the code is unknown, already used or expired; ask for a new one")
    if answer.status != 200:
        raise EnrollError(f"enrolment failed: {http_error(answer, 'server answered').message}")
    try:
        response = protocol.EnrollResponse.from_json(answer.body)
    except protocol.ProtocolError as exc:
        raise EnrollError(one_line(f"enrolment failed: unreadable answer ({exc})")) from None
    path = resolve_config_path(config_path)
    values = {"url": server_url, "token": response.token}
    if ca_file:
        values["ca_file"] = str(Path(ca_file).resolve())
    try:
        update_config_file(path, "server", values)
    except (ConfigError, OSError) as exc:
        raise EnrollError(one_line(f"enrolled, but cannot write {path}: {exc}")) from None
    offset = clock.measure(response.server_time, answer.midpoint).offset_s
    return EnrollResult(response.kiosk_id, response.venue_id, path, offset)


def _check_url(server_url: str) -> str:
    url = server_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise EnrollError(f"server address must start with https:// (or http:// on a test network): {server_url!r}")
    return url
