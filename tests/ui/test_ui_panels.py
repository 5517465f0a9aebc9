"""Guard panel, questionnaire, PIN-protected settings and exit, language switching: real store, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from kiosk.config import load_settings
from kiosk.demo import demo_people
from kiosk.privacy import mask_name
from kiosk.store import Store
from tests.support.media import write_video
from tests.support.station import make_settings, stations, wait_for_views
from ui.pages.pin import hash_pin, verify_pin

station_factory = pytest.fixture(stations)

PERSON = demo_people(1, seed=11)[0]


def idle_video(tmp_path: Path) -> str:
    return str(write_video(tmp_path / "empty.avi", [(None, 30.0)], fps=5))


def test_assisted_entry_with_a_yes_is_flagged(tmp_path: Path, station_factory) -> None:
    """Symptom policy "alert": admitted, flagged, amber with the reason (tests/ui/test_ui_symptom_policy.py has
    the default, "refuse")."""
    settings = make_settings(tmp_path, station={"questionnaire": "assisted", "capacity": 50, "symptom_policy": "alert"})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    QTest.mouseClick(window.guard_button, Qt.MouseButton.LeftButton)
    assert window.current_page() is window.guard_panel
    form = window.guard_panel.assisted
    form.name.setText("Trần Thị Bích Ngọc")
    form.phone.setText("0912345678")
    form.id_number.setText("079301004321")
    QTest.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    questionnaire = window.questionnaire
    assert window.current_page() is questionnaire
    assert not questionnaire.done_button.isEnabled()  # every question needs an answer
    questionnaire.answer_all_no()
    questionnaire.answer("contact", True)
    QTest.mouseClick(questionnaire.done_button, Qt.MouseButton.LeftButton)
    view = wait_for_views(station.qtbot, station, 1)[0]
    assert view.flagged and view.outcome == "warning"
    assert view.title == "GẶP NHÂN VIÊN"
    assert "triệu chứng" in view.reason and view.reason.lower() != view.title.lower()  # why, not the title again
    assert view.name == "Trần T. B. N."
    with Store.open(settings.store.db_path) as store:
        (event,) = store.inside()
    assert event.source == "assisted" and "symptoms" in event.flags
    assert event.details["declaration"]["answers"]["contact"] is True
    assert event.details["phone"] == "0912345678"
    assert window.guard_panel.inside_table.rowCount() == 1


def test_assisted_entry_all_no_is_a_plain_entry_and_guard_can_check_out(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "assisted"})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    station.open_guard_panel()
    form = window.guard_panel.assisted
    form.name.setText("Lê Văn Tám")
    form.id_number.setText("038095001234")
    form.submit_button.click()
    window.questionnaire.answer_all_no()
    window.questionnaire.done_button.click()
    assert wait_for_views(station.qtbot, station, 1)[0].outcome == "entry"
    panel = window.guard_panel
    assert panel.inside_table.rowCount() == 1
    panel.search_field.setText("1234")  # the last digits of the ID
    assert panel.search_table.rowCount() == 1
    panel.inside_table.selectRow(0)
    panel.checkout_button.click()
    assert window.current_page() is panel and not station.shown_views[1:]  # issue 10: nothing before confirming
    panel.action_bar.confirm_button.click()
    assert wait_for_views(station.qtbot, station, 2)[1].outcome == "exit"
    station.qtbot.waitUntil(lambda: panel.inside_table.rowCount() == 0, timeout=3000)
    assert "1 entries, 1 exits" in panel.counts.text() or "1 lượt vào, 1 lượt ra" in panel.counts.text()


def test_questionnaire_on_every_entry_holds_the_record_until_answered(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "always"})
    station = station_factory(settings, source=idle_video(tmp_path))
    station.submit_payload(PERSON.payload.encode("utf-8"))
    station.qtbot.waitUntil(lambda: station.window.current_page() is station.window.questionnaire, timeout=5000)
    with Store.open(settings.store.db_path) as store:
        assert store.occupancy() == 0  # nothing recorded before the answers
    station.window.questionnaire.answer_all_no()
    station.window.questionnaire.done_button.click()
    assert wait_for_views(station.qtbot, station, 1)[0].outcome == "entry"
    with Store.open(settings.store.db_path) as store:
        assert store.occupancy() == 1


def test_cancelled_declaration_shows_the_station_clock_in_the_venue_time_zone(tmp_path: Path, station_factory) -> None:
    from datetime import UTC, datetime

    settings = make_settings(tmp_path, station={"questionnaire": "always", "timezone": "Asia/Ho_Chi_Minh"})
    moment = datetime(2026, 11, 25, 3, 4, 5, tzinfo=UTC)  # 10:04:05 in Hồ Chí Minh City (UTC+7)
    station = station_factory(settings, source=idle_video(tmp_path), clock=lambda: moment)
    station.submit_payload(PERSON.payload.encode("utf-8"))
    station.qtbot.waitUntil(lambda: station.window.current_page() is station.window.questionnaire, timeout=5000)
    station.window.questionnaire.cancel_button.click()
    view = wait_for_views(station.qtbot, station, 1)[0]
    assert view.outcome == "rejected" and view.time_text == "10:04:05"
    assert station.window.current_page() is station.window.station_page
    with Store.open(settings.store.db_path) as store:
        assert store.occupancy() == 0  # cancelling records nothing


def test_pin_guards_settings_and_exit_in_kiosk_mode(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, ui={"kiosk_mode": True, "pin_hash": hash_pin("2468")})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    window.settings_button.click()
    assert window.current_page() is window.pin_page
    QTest.keyClicks(window.pin_page.field, "1111")
    window.pin_page.ok_button.click()
    assert window.current_page() is window.pin_page and window.pin_page.message.text() == "Sai mã PIN"
    for digit in "2468":
        QTest.keyClicks(window.pin_page.field, digit)
    window.pin_page.ok_button.click()
    assert window.current_page() is window.settings_page

    # Settings saved through the page reach the config file and the running station.
    page = window.settings_page
    page.capacity.setValue(25)
    page.new_pin.setText("13579")
    page.new_pin_again.setText("13597")  # issue 10: typed twice, and a slip is refused
    page.save_button.click()
    assert station.settings.ui.pin_hash == settings.ui.pin_hash and not Path(settings.path).exists()  # not saved
    assert page.message.text() and not page.new_pin_again.text()
    page.new_pin_again.setText("13579")
    page.save_button.click()
    saved = load_settings(settings.path)
    assert saved.station.capacity == 25 and verify_pin("13579", saved.ui.pin_hash)
    assert station.settings.station.capacity == 25
    page.close_button.click()

    # Closing (Alt+F4, the window manager) and Escape do nothing without the PIN.
    window.close()
    assert window.isVisible() and not station.quit_calls
    assert window.current_page() is window.pin_page and window.pin_page.purpose == "exit"
    window.pin_page.cancel_button.click()
    QTest.keyClick(window, Qt.Key.Key_Escape)
    assert window.isVisible() and window.current_page() is window.pin_page
    QTest.keyClicks(window.pin_page.field, "2468")  # the old PIN no longer works
    window.pin_page.ok_button.click()
    assert window.isVisible() and not station.quit_calls
    QTest.keyClicks(window.pin_page.field, "13579")
    window.pin_page.ok_button.click()
    assert station.quit_calls and not window.isVisible()


def test_language_switches_at_run_time(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path)
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    panel = window.result_panel
    assert panel.title.text() == "Đưa mã QR cá nhân vào trước camera"
    assert window.guard_button.text() == "Bảo vệ" and window.language_button.text() == "English"
    window.language_button.click()  # Qt delivers LanguageChange to every widget through the event loop
    station.qtbot.waitUntil(lambda: panel.title.text() == "Show your personal QR code to the camera", timeout=3000)
    assert window.guard_button.text() == "Guard" and window.language_button.text() == "Tiếng Việt"
    assert window.guard_panel.tabs.tabText(0) == "Inside now"
    assert window.questionnaire.labels["fever"].text() == "Fever"
    window.language_button.click()
    station.qtbot.waitUntil(lambda: window.questionnaire.labels["fever"].text() == "Sốt", timeout=3000)
    assert panel.title.text() == "Đưa mã QR cá nhân vào trước camera"
    assert window.status.camera.text().startswith("Camera")


def test_enrolment_failure_is_one_line_and_the_gui_stays_live(tmp_path: Path, station_factory) -> None:
    import socket

    with socket.socket() as sock:  # a port on this machine that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = make_settings(tmp_path)
    station = station_factory(settings, source=idle_video(tmp_path), inline_tasks=False)  # a real thread
    station.open_settings()
    page = station.window.settings_page
    assert station.window.current_page() is page  # no PIN configured: straight in (the status bar warns)
    assert "PIN" in station.window.status.warning.text()
    page.server_url.setText(f"http://127.0.0.1:{port}")
    page.enroll_code.setText("ABCD-EFGH")
    page.enroll_button.click()
    assert not page.enroll_button.isEnabled()
    station.qtbot.waitUntil(page.enroll_button.isEnabled, timeout=20000)
    message = page.message.text()
    assert message and "\n" not in message and "ABCD" not in message
    assert station.sync_worker is None


def test_daily_health_update_records_the_temperature(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "never", "symptom_policy": "alert"})
    station = station_factory(settings, source=idle_video(tmp_path))
    window = station.window
    station.open_guard_panel()
    window.guard_panel.health_mode.setChecked(True)
    station.submit_payload(PERSON.payload.encode("utf-8"))
    station.qtbot.waitUntil(lambda: window.current_page() is window.questionnaire, timeout=5000)
    questionnaire = window.questionnaire
    assert questionnaire.temperature.isVisibleTo(window)
    questionnaire.answer_all_no()
    # issue 10: no pre-filled temperature; Confirm waits for one to be typed
    assert questionnaire.temperature.text() == "" and not questionnaire.done_button.isEnabled()
    QTest.keyClicks(questionnaire.temperature, "38.2")  # fever by thermometer, though every answer is "no"
    questionnaire.done_button.click()
    view = wait_for_views(station.qtbot, station, 1)[0]
    assert view.flagged and view.outcome == "warning"
    with Store.open(settings.store.db_path) as store:
        (event,) = list(store.events())
    assert event.details["declaration"]["temperature_c"] == 38.2 and "symptoms" in event.flags


def test_status_bar_shows_sync_state_and_warnings() -> None:
    from datetime import UTC, datetime, timedelta

    from sync.worker import SyncStatus
    from ui.app import make_application
    from ui.widgets.status_bar import StationStatusBar

    make_application()
    bar = StationStatusBar()
    bar.set_camera_state("lost")
    assert bar.camera.text() == "Camera: LOST"
    bar.set_sync_status(SyncStatus(online=False, pending=7), configured=False)
    assert bar.sync.text() == "Offline, 7 pending" and bar.warning.text() == ""
    now = datetime.now(UTC)
    fresh = {"keys": now - timedelta(hours=2), "trust-list": now - timedelta(days=5)}
    bar.set_sync_status(
        SyncStatus(online=True, pending=0, last_success=now, fetched_at=fresh, offset_warning=True), configured=True
    )
    assert bar.sync.text().startswith("Online, 0 pending, last sync")
    assert bar.trust.text() == "Keys: 2 h, trust list: 5 days"
    assert "Trust list out of date" in bar.warning.text() and "Clock looks wrong" in bar.warning.text()


def guard_cells(table) -> list[str]:  # type: ignore[no-untyped-def]
    return [table.item(row, column).text() for row in range(table.rowCount()) for column in range(table.columnCount())]


def test_guard_panel_masks_names_and_search_still_matches_the_full_name(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "never"})
    assert not settings.ui.guard_full_names  # masked unless IT staff turn it on
    station = station_factory(settings, source=idle_video(tmp_path))
    station.submit_payload(PERSON.payload.encode("utf-8"))
    assert wait_for_views(station.qtbot, station, 1)[0].outcome == "entry"
    station.open_guard_panel()
    panel = station.window.guard_panel
    assert panel.inside_table.rowCount() == 1
    assert panel.inside_table.item(0, 0).text() == mask_name(PERSON.full_name) != PERSON.full_name
    assert not any(PERSON.full_name in cell for cell in guard_cells(panel.inside_table))
    panel.search_field.setText(PERSON.full_name)  # masking is display only: the stored full name is searched
    assert panel.search_table.rowCount() == 1
    assert panel.search_table.item(0, 0).text() == mask_name(PERSON.full_name)
    assert not any(PERSON.full_name in cell for cell in guard_cells(panel.search_table))
    panel.search_field.setText(PERSON.full_name + " X")  # and a name that is not stored still finds nobody
    assert panel.search_table.rowCount() == 0


def test_guard_full_names_setting_shows_full_names(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "never"}, ui={"guard_full_names": True})
    station = station_factory(settings, source=idle_video(tmp_path))
    station.submit_payload(PERSON.payload.encode("utf-8"))
    view = wait_for_views(station.qtbot, station, 1)[0]
    assert view.name == mask_name(PERSON.full_name)  # the visitor-facing screen stays masked
    station.open_guard_panel()
    panel = station.window.guard_panel
    assert panel.inside_table.item(0, 0).text() == PERSON.full_name
    assert panel.inside_table.item(0, 1).text().endswith(PERSON.id_number[-4:])
    assert PERSON.id_number not in guard_cells(panel.inside_table)  # IDs stay masked


def test_settings_page_switches_guard_full_names(tmp_path: Path, station_factory) -> None:
    settings = make_settings(tmp_path, station={"questionnaire": "never"})
    station = station_factory(settings, source=idle_video(tmp_path))
    station.submit_payload(PERSON.payload.encode("utf-8"))
    assert wait_for_views(station.qtbot, station, 1)[0].outcome == "entry"
    station.open_settings()
    page = station.window.settings_page
    assert station.window.current_page() is page and not page.guard_full_names.isChecked()
    page.guard_full_names.setChecked(True)
    page.save_button.click()
    assert load_settings(settings.path).ui.guard_full_names
    station.open_guard_panel()
    assert station.window.guard_panel.inside_table.item(0, 0).text() == PERSON.full_name
    station.open_settings()
    assert page.guard_full_names.isChecked()  # the page shows the value in force
    page.guard_full_names.setChecked(False)
    page.save_button.click()
    assert not load_settings(settings.path).ui.guard_full_names
    station.open_guard_panel()
    assert station.window.guard_panel.inside_table.item(0, 0).text() == mask_name(PERSON.full_name)
