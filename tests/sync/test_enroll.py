"""`kiosk enroll`: a one-time code becomes a token in the kiosk's config file (0600), against the real central
server (`kiosk-server serve` on SQLite, one process for the module; each test gets its own kiosk and code)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiosk.config import load_settings
from sync.enroll import EnrollError, enroll
from tests.support.postgres import LiveServer, sqlite_server_for
from tests.support.sync_servers import ROOT, ImitationServer, _env, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from sqlite_server_for(tmp_path_factory, "enroll-server")


@pytest.fixture(scope="module")
def venue(server: LiveServer) -> int:
    return server.add_venue("Chợ Bến Thành")


def new_code(server: LiveServer, venue: int) -> str:
    return server.add_kiosk(venue)


def token_works(server: LiveServer, token: str) -> bool:
    answer = httpx.get(f"{server.url}/api/v1/config", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    return answer.status_code == 200


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True, timeout=60, cwd=ROOT, env=_env()
    )


def test_enroll_writes_url_and_token_with_mode_0600(tmp_path: Path, server: LiveServer, venue: int) -> None:
    config = tmp_path / "etc" / "kiosk.conf"  # any file name; the folder does not exist yet
    code = new_code(server, venue)
    result = enroll(server.url + "/", " " + code[:4].lower() + "-" + code[4:] + " ", config)
    assert result.venue_id == str(venue) and result.kiosk_id and result.config_path == config
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    settings = load_settings(config)
    assert settings.server.url == server.url and token_works(server, settings.server.token)
    assert abs(result.clock_offset_s) < 5 and not result.clock_warning
    assert [p.name for p in config.parent.iterdir()] == ["kiosk.conf"]  # no probe or temporary file left


def test_enroll_keeps_other_settings(tmp_path: Path, server: LiveServer, venue: int) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[station]\nmode = "exit"\n\n[server]\nbatch_size = 200\n', encoding="utf-8")
    enroll(server.url, new_code(server, venue), config)
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    assert raw["station"] == {"mode": "exit"}
    assert raw["server"]["batch_size"] == 200 and token_works(server, raw["server"]["token"])


def test_used_code_is_refused_and_nothing_is_written(tmp_path: Path, server: LiveServer, venue: int) -> None:
    code = new_code(server, venue)
    enroll(server.url, code, tmp_path / "first.toml")
    with pytest.raises(EnrollError, match="already used or expired") as info:
        enroll(server.url, code, tmp_path / "new" / "folder" / "second.toml")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "new").exists()  # not even the folders made to check the path is writable


@pytest.mark.parametrize("where", ["under-a-file", "a-folder", "unreadable-toml"])
def test_unwritable_config_keeps_the_code_unused(tmp_path: Path, server: LiveServer, venue: int, where: str) -> None:
    """The code is single-use: a config path that cannot be written is found BEFORE the code is posted, so
    the same code then enrols with a good path. (A path under a regular file: root can write anywhere else.)"""
    (tmp_path / "plain-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "broken.toml").write_text("[server\nurl = ", encoding="utf-8")
    (tmp_path / "folder.toml").mkdir()
    bad = {
        "under-a-file": tmp_path / "plain-file" / "kiosk.toml",
        "a-folder": tmp_path / "folder.toml",
        "unreadable-toml": tmp_path / "broken.toml",
    }[where]
    code = new_code(server, venue)
    with pytest.raises(EnrollError, match="cannot write the configuration") as info:
        enroll(server.url, code, bad)
    assert "\n" not in str(info.value) and "code was not used" in str(info.value)
    done = run_kiosk("enroll", "--server", server.url, "--code", code, "--config", str(bad))  # the CLI: one line
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cannot write the configuration" in done.stderr and "Traceback" not in done.stderr
    good = tmp_path / "good.toml"
    result = enroll(server.url, code, good)  # the same code: it was not consumed
    assert result.venue_id == str(venue) and token_works(server, load_settings(good).server.token)


def test_enrolment_qr_text_carries_code_and_server(tmp_path: Path, server: LiveServer, venue: int) -> None:
    from sync.protocol_pull import enrollment_qr_payload

    code = new_code(server, venue)
    result = enroll(None, enrollment_qr_payload(code.lower(), server.url), tmp_path / "c.toml")
    assert result.venue_id == str(venue) and load_settings(tmp_path / "c.toml").server.url == server.url
    with pytest.raises(EnrollError, match="no server address"):
        enroll(None, "QRCK-ENROLL:ABCD1234", tmp_path / "d.toml")


@pytest.mark.parametrize("url", ["ftp://example.org", "example.org"])
def test_bad_server_address(tmp_path: Path, url: str) -> None:
    with pytest.raises(EnrollError, match="must start with"):
        enroll(url, "ABCD1234", tmp_path / "c.toml")


def test_cli_enroll_then_unreachable_and_bad_code(tmp_path: Path, server: LiveServer, venue: int) -> None:
    config = tmp_path / "kiosk.toml"
    code = new_code(server, venue)
    done = run_kiosk("enroll", "--server", server.url, "--code", code, "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert f"of venue {venue}" in done.stdout and "enrolled as kiosk" in done.stdout
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600

    again = run_kiosk("enroll", "--server", server.url, "--code", code, "--config", str(tmp_path / "x"))
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1
    assert "refused" in again.stderr and "Traceback" not in again.stderr

    down = run_kiosk(
        "enroll", "--server", f"http://127.0.0.1:{free_port()}", "--code", "X1", "--config", str(tmp_path / "y")
    )
    assert down.returncode != 0 and len(down.stderr.strip().splitlines()) == 1
    assert "unreachable" in down.stderr


def test_cli_sync_once_before_enrolment_says_so(tmp_path: Path) -> None:
    done = run_kiosk("sync", "--once", "--config", str(tmp_path / "none.toml"), "--db", str(tmp_path / "k.db"))
    assert done.returncode != 0 and "not enrolled" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_enroll_over_https_with_a_private_ca(tmp_path: Path) -> None:
    """The imitation server: the real one is served over plain HTTP behind the operator's TLS proxy."""
    from tests.support.sync_servers import make_tls_files

    ca, cert, key = make_tls_files(tmp_path)
    with ImitationServer(tmp_path / "server.sqlite3", tls=(cert, key)) as https:
        with pytest.raises(EnrollError, match="TLS verification failed"):
            enroll(https.url, "ABCD1234", tmp_path / "a.toml")  # unknown CA: refused before the code is sent
        enroll(https.url, "ABCD1234", tmp_path / "b.toml", ca_file=str(ca))
    server = load_settings(tmp_path / "b.toml").server
    assert server.url == https.url and server.ca_file == str(ca.resolve()) and server.token
