"""Settings from a file and the environment; every mistake is one line naming the key."""

from __future__ import annotations

import os
import stat

import pytest

from kiosk.config import ConfigError, load_settings, update_config_file


def write(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_when_the_file_is_missing(tmp_path):
    settings = load_settings(tmp_path / "none.toml", env={})
    assert settings.station.mode == "auto" and settings.station.cooldown_seconds == 60
    assert settings.station.retention_days == 21 and settings.path == str(tmp_path / "none.toml")


def test_file_then_environment(tmp_path):
    path = write(
        tmp_path,
        '[station]\nmode = "entry"\ncapacity = 100\nvenue_name = "Chợ Bến Thành"\n[camera]\nengines = ["zxing"]\n',
    )
    settings = load_settings(path, env={"QRC_STATION__CAPACITY": "120", "QRC_CAMERA__STABLE_FRAMES": "3"})
    assert settings.station.mode == "entry" and settings.station.venue_name == "Chợ Bến Thành"
    assert settings.station.capacity == 120 and settings.camera.stable_frames == 3
    assert settings.camera.engines == ("zxing",)


def test_config_path_from_environment(tmp_path):
    path = write(tmp_path, '[station]\nmode = "exit"\n')
    assert load_settings(env={"QRC_CONFIG": str(path)}).station.mode == "exit"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("[station]\nmod = 'entry'\n", {}, "station.mod: unknown setting"),
        ("[staton]\nmode = 'entry'\n", {}, "staton: unknown section"),
        ("[station]\nmode = 'sideways'\n", {}, "station.mode: 'sideways' is not one of"),
        ("[station]\ncooldown_seconds = 'soon'\n", {}, "station.cooldown_seconds: expected a whole number"),
        ("", {"QRC_STATION__CAPACITY": "-5"}, "station.capacity: -5 is out of range"),
        ("", {"QRC_UI__KIOSK_MODE": "maybe"}, "ui.kiosk_mode: expected true or false"),
        ("[station]\nclosing_time = '25:00'\n", {}, "station.closing_time: expected HH:MM"),
        ("[station\n", {}, "not valid TOML"),
        ("[station]\ntimezone = 'Mars/Base'\n", {}, "station.timezone: unknown time zone"),
        ("[camera]\nbudget_ms = 0\n", {}, "camera.budget_ms: 0.0 is out of range"),
        ("[station]\ncapacity = 1e400\n", {}, "station.capacity: expected a whole number"),
        ("[camera]\nengines = []\n", {}, "camera.engines: name at least one"),
    ],
)
def test_mistakes_are_one_line_naming_the_key(tmp_path, text, env, message):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), env=env)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_update_creates_a_private_file_and_keeps_other_keys(tmp_path):
    path = tmp_path / "sub" / "kiosk.toml"
    update_config_file(path, "station", {"mode": "exit"})
    update_config_file(path, "server", {"url": "http://127.0.0.1:8000", "token": "s3cret"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    settings = load_settings(path, env={})
    assert settings.station.mode == "exit" and settings.server.token == "s3cret"


def test_update_refuses_a_value_it_could_not_read_back(tmp_path):
    path = tmp_path / "kiosk.toml"
    with pytest.raises(ConfigError):
        update_config_file(path, "station", {"mode": "sideways"})
    assert not path.exists()


def test_plain_http_to_another_machine_needs_an_explicit_setting(tmp_path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[server]\nurl = "http://192.0.2.10:8000"\ntoken = "t"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="server.url: plain http"):
        load_settings(path, env={})
    path.write_text('[server]\nurl = "http://192.0.2.10:8000"\nallow_plain_http = true\n', encoding="utf-8")
    assert load_settings(path, env={}).server.allow_plain_http
    for local in ("http://127.0.0.1:8000", "http://localhost:8000", "http://[::1]:8000", "https://example.org"):
        path.write_text(f'[server]\nurl = "{local}"\n', encoding="utf-8")
        assert load_settings(path, env={}).server.url == local
