"""`kiosk enroll`: a one-time code becomes a token in the kiosk's config file (0600), against a real HTTP server."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sync_support import ROOT, ImitationServer, _env, free_port

from kiosk.config import load_settings
from sync.enroll import EnrollError, enroll


@pytest.fixture
def server(tmp_path: Path):
    with ImitationServer(tmp_path / "server.sqlite3") as running:
        yield running


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", *args], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=_env())


def test_enroll_writes_url_and_token_with_mode_0600(tmp_path: Path, server: ImitationServer) -> None:
    config = tmp_path / "etc" / "kiosk.conf"  # any file name; the folder does not exist yet
    result = enroll(server.url + "/", " abcd-1234 ", config)
    assert (result.kiosk_id, result.venue_id, result.config_path) == ("7", "1", config)
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600
    settings = load_settings(config)
    assert settings.server.url == server.url and settings.server.token == server.issued_token
    assert abs(result.clock_offset_s) < 5 and not result.clock_warning


def test_enroll_keeps_other_settings(tmp_path: Path, server: ImitationServer) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[station]\nmode = "exit"\n\n[server]\nbatch_size = 200\n', encoding="utf-8")
    enroll(server.url, "ABCD1234", config)
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    assert raw["station"] == {"mode": "exit"}
    assert raw["server"]["batch_size"] == 200 and raw["server"]["token"] == server.issued_token


def test_used_code_is_refused_and_nothing_is_written(tmp_path: Path, server: ImitationServer) -> None:
    enroll(server.url, "ABCD1234", tmp_path / "first.toml")
    with pytest.raises(EnrollError, match="already used or expired") as info:
        enroll(server.url, "ABCD1234", tmp_path / "second.toml")
    assert "\n" not in str(info.value)
    assert not (tmp_path / "second.toml").exists()


def test_enrolment_qr_text_carries_code_and_server(tmp_path: Path, server: ImitationServer) -> None:
    from sync.protocol import enrollment_qr_payload

    result = enroll(None, enrollment_qr_payload("abcd-1234", server.url), tmp_path / "c.toml")
    assert result.kiosk_id == "7" and load_settings(tmp_path / "c.toml").server.url == server.url
    with pytest.raises(EnrollError, match="no server address"):
        enroll(None, "QRCK-ENROLL:ABCD1234", tmp_path / "d.toml")


@pytest.mark.parametrize("url", ["ftp://example.org", "example.org"])
def test_bad_server_address(tmp_path: Path, url: str) -> None:
    with pytest.raises(EnrollError, match="must start with"):
        enroll(url, "ABCD1234", tmp_path / "c.toml")


def test_cli_enroll_then_unreachable_and_bad_code(tmp_path: Path, server: ImitationServer) -> None:
    config = tmp_path / "kiosk.toml"
    done = run_kiosk("enroll", "--server", server.url, "--code", "ABCD1234", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert "enrolled as kiosk 7 of venue 1" in done.stdout
    assert stat.S_IMODE(os.stat(config).st_mode) == 0o600

    again = run_kiosk("enroll", "--server", server.url, "--code", "ABCD1234", "--config", str(tmp_path / "x"))
    assert again.returncode != 0 and len(again.stderr.strip().splitlines()) == 1
    assert "refused" in again.stderr and "Traceback" not in again.stderr

    down = run_kiosk("enroll", "--server", f"http://127.0.0.1:{free_port()}", "--code", "X1", "--config",
                     str(tmp_path / "y"))
    assert down.returncode != 0 and len(down.stderr.strip().splitlines()) == 1
    assert "unreachable" in down.stderr


def test_cli_sync_once_before_enrolment_says_so(tmp_path: Path) -> None:
    done = run_kiosk("sync", "--once", "--config", str(tmp_path / "none.toml"), "--db", str(tmp_path / "k.db"))
    assert done.returncode != 0 and "not enrolled" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_enroll_over_https_with_a_private_ca(tmp_path: Path) -> None:
    from sync_support import make_tls_files

    ca, cert, key = make_tls_files(tmp_path)
    with ImitationServer(tmp_path / "server.sqlite3", tls=(cert, key)) as https:
        with pytest.raises(EnrollError, match="TLS verification failed"):
            enroll(https.url, "ABCD1234", tmp_path / "a.toml")  # unknown CA: refused before the code is sent
        enroll(https.url, "ABCD1234", tmp_path / "b.toml", ca_file=str(ca))
    server = load_settings(tmp_path / "b.toml").server
    assert server.url == https.url and server.ca_file == str(ca.resolve()) and server.token
