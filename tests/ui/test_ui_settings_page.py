"""The settings page (issue 10, item 8): readable labels (no raw identifiers, none clipped), a list of the cameras
this machine has, and the camera and language the station is actually using; the symptom policy and the on-screen
keyboard are set there too. Roll-call (item 9): the whole list inside, as a PDF, behind the PIN."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel

from kiosk.config import load_settings
from kiosk.demo import demo_people
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views
from ui.pages.pin import hash_pin
from ui.runtime.cameras import detect_cameras

station_factory = pytest.fixture(stations)
PEOPLE = demo_people(3, seed=41)


def fake_sysfs(root: Path) -> Path:
    """What /sys/class/video4linux holds for one USB webcam (capture + metadata node) and a capture card."""
    for node, name, index in (
        ("video0", "HD Webcam C270", "0"),
        ("video1", "HD Webcam C270", "1"),
        ("video2", "USB Capture", "0"),
    ):
        (root / node).mkdir(parents=True)
        (root / node / "name").write_text(name + "\n")
        (root / node / "index").write_text(index + "\n")
    return root


def test_cameras_are_listed_by_capture_node(tmp_path: Path) -> None:
    found = detect_cameras(fake_sysfs(tmp_path / "v4l"))
    assert [(c.spec, c.label) for c in found] == [
        ("0", "HD Webcam C270 (/dev/video0)"),
        ("2", "USB Capture (/dev/video2)"),
    ]
    assert detect_cameras(tmp_path / "missing") == []


def station(tmp_path: Path, station_factory: Any, **ui: Any) -> Any:
    settings = make_settings(tmp_path, ui=ui)
    video = write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5)
    return station_factory(settings, source=str(video))


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(("width", "height"), [(1024, 600), (800, 480)])
def test_labels_are_words_and_none_is_clipped(
    tmp_path: Path, station_factory: Any, language: str, width: int, height: int
) -> None:
    made = station(tmp_path, station_factory)
    if language == "en":
        made.toggle_language()
    made.window.resize(width, height)
    made.open_settings()
    page = made.window.settings_page
    made.qtbot.wait(50)
    boxes = [box.text() for box in page.credentials.values()]
    assert all(text and text.upper() != text for text in boxes)  # "PC-Covid app", not "PCCOVID"
    assert any("CCCD" in text for text in boxes)
    for label in page.findChildren(QLabel):
        if label.text() and label.wordWrap() and label.width() > 0 and label.isVisibleTo(page):
            assert label.heightForWidth(label.width()) <= label.height() + 1, label.text()
    assert page.language.currentData() == language  # the language in use, switched on the header or not


def test_the_camera_in_use_is_shown_and_a_typed_url_is_kept(tmp_path: Path, station_factory: Any) -> None:
    made = station(tmp_path, station_factory)
    made.source_spec = "demo"  # started with --demo
    made.open_settings()
    page = made.window.settings_page
    assert page.camera.currentData() == "demo" and page.values()["camera"]["source"] == "demo"
    labels = [page.camera.itemText(i) for i in range(page.camera.count())]
    assert any("Demo" in text or "Chạy thử" in text for text in labels)
    page.camera.setEditText("rtsp://cam.local/stream1")
    assert page.values()["camera"]["source"] == "rtsp://cam.local/stream1"


def test_symptom_policy_and_keyboard_are_saved(tmp_path: Path, station_factory: Any) -> None:
    made = station(tmp_path, station_factory)
    made.open_settings()
    page = made.window.settings_page
    page.symptom_policy.setCurrentIndex(page.symptom_policy.findData("alert"))
    keyboard = page.keyboard
    assert isinstance(keyboard, QCheckBox)
    keyboard.setChecked(True)
    page.save_button.click()
    saved = load_settings(made.settings.path)
    assert saved.station.symptom_policy == "alert" and saved.ui.on_screen_keyboard is True
    assert made.settings.station.symptom_policy == "alert"  # in force at once


def test_roll_call_pdf_needs_the_pin_and_lists_everyone_inside(tmp_path: Path, station_factory: Any) -> None:
    made = station(tmp_path, station_factory, pin_hash=hash_pin("2468"))
    for count, person in enumerate(PEOPLE, start=1):
        made.submit_payload(person.payload.encode("utf-8"))
        wait_for_views(made.qtbot, made, count)
    made.back_to_idle()
    window = made.window
    made.open_guard_panel()
    window.guard_panel.rollcall_button.click()
    assert window.current_page() is window.pin_page and made.rollcall.last_pdf is None  # nothing without the PIN
    window.pin_page.field.setText("2468")
    window.pin_page.ok_button.click()
    pdf = made.rollcall.last_pdf
    assert pdf is not None and pdf.exists() and window.current_page() is window.guard_panel
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600  # personal data
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 2000
    assert str(pdf) in window.guard_panel.notice.text()
    with Store.open(made.settings.store.db_path) as store:
        inside = store.inside()
    assert len(inside) == 3
    markup = made.rollcall.last_markup
    assert all(event.full_name in markup for event in inside)  # full names: it is the evacuation list
    assert all(event.id_number not in markup for event in inside)  # ID numbers masked even here
