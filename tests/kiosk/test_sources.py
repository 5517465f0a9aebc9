"""Frame sources on real media: MJPG .avi files written with cv2.VideoWriter, image folders, a camera that is
"unplugged" (its opener hands out closed captures for a while), the demo scene, and the frame-drop slot."""

from __future__ import annotations

import math
import random
import threading
import time
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.decode import make_chain
from kiosk.demo import DemoPerson, demo_payloads, demo_people, make_cccd_payload, make_malformed_payload, make_person
from kiosk.sources import (
    CameraSource,
    DemoSource,
    FrameGrabber,
    ImageFolderSource,
    LatestFrameSlot,
    SourceError,
    SourceState,
    VideoFileSource,
    open_source,
)
from kiosk.sources.demo import ENTER_S, VISIT_S


def write_avi(path: Path, n_frames: int, fps: float = 10.0, size: tuple[int, int] = (320, 240)) -> Path:
    """An MJPG .avi whose frame i is flat grey level 10 * i (so a frame says which one it is)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(n_frames):
        writer.write(np.full((size[1], size[0], 3), 10 * i, np.uint8))
    writer.release()
    return path


def level(image: np.ndarray) -> int:
    """Which frame of write_avi() this is (MJPG is lossy, so round the mean)."""
    return round(float(image.mean()) / 10)


# --- video files -------------------------------------------------------------------------------------------


def test_video_file_frames_positions_and_end(tmp_path: Path) -> None:
    source = VideoFileSource(write_avi(tmp_path / "v.avi", 12, fps=10))
    assert source.is_file and source.state is SourceState.OK
    frames = []
    while (frame := source.read()) is not None:
        frames.append(frame)
    assert source.state is SourceState.ENDED and source.read() is None
    assert [f.index for f in frames] == list(range(12))
    assert [level(f.image) for f in frames] == list(range(12))
    assert [f.position for f in frames] == pytest.approx([i / 10 for i in range(12)], abs=1e-6)
    assert frames[0].image.shape == (240, 320, 3)


def test_video_file_via_open_source_at_other_fps(tmp_path: Path) -> None:
    source = open_source(str(write_avi(tmp_path / "v25.avi", 5, fps=25)))
    assert isinstance(source, VideoFileSource)
    positions = [source.read().position for _ in range(5)]  # type: ignore[union-attr]
    assert positions == pytest.approx([0, 0.04, 0.08, 0.12, 0.16], abs=1e-6)


def test_corrupt_missing_and_empty_videos_raise_one_line(tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 50)
    empty = tmp_path / "empty.avi"
    empty.write_bytes(b"")
    truncated = tmp_path / "truncated.avi"
    truncated.write_bytes(write_avi(tmp_path / "full.avi", 10).read_bytes()[:300])
    for path in (corrupt, empty, truncated, tmp_path / "missing.avi"):
        with pytest.raises(SourceError) as info:
            VideoFileSource(path)
        assert "\n" not in str(info.value) and path.name in str(info.value)


# --- image folders -----------------------------------------------------------------------------------------


def test_folder_natural_order_skips_unreadable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), np.full((48, 64, 3), 20 * i, np.uint8))
    (tmp_path / "frame3.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("ignored: not an image")
    source = ImageFolderSource(tmp_path, frame_interval_s=0.5)
    with caplog.at_level("WARNING"):
        frames = [source.read() for _ in range(3)]
    assert source.read() is None and source.state is SourceState.ENDED
    assert [int(f.image.mean()) for f in frames] == [20, 40, 200]  # frame1, frame2, frame10 (frame3 skipped)
    assert [f.index for f in frames] == [0, 1, 2]
    assert [f.position for f in frames] == [0.0, 0.5, 1.5]  # the skipped file keeps its time slot
    assert [p.name for p in source.skipped] == ["frame3.jpg"]
    assert "frame3.jpg" in caplog.text


def test_folder_without_readable_images_raises(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no images"):
        ImageFolderSource(tmp_path)
    (tmp_path / "a.png").write_bytes(b"broken")
    (tmp_path / "b.jpg").write_bytes(b"")
    with pytest.raises(SourceError, match="none of the 2 images"):
        open_source(str(tmp_path))
    with pytest.raises(SourceError, match="not found"):
        ImageFolderSource(tmp_path / "nope")


# --- open_source dispatch and cameras that are not there ---------------------------------------------------


def test_open_source_dispatch_and_errors(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "x.png"), np.zeros((30, 30, 3), np.uint8))
    assert isinstance(open_source(str(tmp_path)), ImageFolderSource)
    assert isinstance(open_source("demo"), DemoSource)
    assert open_source("demo").is_file is False
    assert open_source("demo", demo_realtime=False).is_file is True
    for spec, message in (
        ("7", "camera 7 could not be opened"),
        ("/dev/video9", "does not exist"),
        ("", "no video source"),
        (str(tmp_path / "nothing.mp4"), "no such camera, file or folder"),
    ):
        with pytest.raises(SourceError, match=message):
            open_source(spec)


def test_unreachable_ip_camera_raises_without_password_in_message() -> None:
    with pytest.raises(SourceError) as info:
        open_source("rtsp://admin:s3cret@127.0.0.1:9/stream")  # port 9 (discard): connection refused at once
    assert "s3cret" not in str(info.value) and "127.0.0.1" in str(info.value)


def test_camera_that_cannot_open_raises() -> None:
    with pytest.raises(SourceError, match="could not be opened"):
        CameraSource(cv2.VideoCapture, description="camera X")  # a capture opened on nothing

    def broken() -> cv2.VideoCapture:
        raise OSError("device busy")

    with pytest.raises(SourceError, match="device busy"):
        CameraSource(broken)


# --- live camera: lost, reconnecting with backoff, back ----------------------------------------------------


class Unpluggable:
    """An opener for a "camera" that is a real video file; while unplugged it returns closed captures."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.plugged = True
        self.calls: list[float] = []

    def __call__(self) -> cv2.VideoCapture:
        self.calls.append(time.monotonic())
        return cv2.VideoCapture(str(self.path)) if self.plugged else cv2.VideoCapture()


def test_camera_reconnects_with_exponential_backoff(tmp_path: Path) -> None:
    opener = Unpluggable(write_avi(tmp_path / "cam.avi", 5))
    camera = CameraSource(opener, backoff_initial_s=0.05, backoff_max_s=0.2, max_failed_reads=1, poll_s=0.01)
    assert not camera.is_file
    got = [camera.read() for _ in range(5)]
    assert [level(f.image) for f in got] == [0, 1, 2, 3, 4]  # type: ignore[union-attr]
    assert got[1].position >= got[0].position  # type: ignore[union-attr]

    opener.plugged = False  # the "cable" is pulled: the file is over, and reopening gives closed captures
    assert camera.read() is None and camera.state is SourceState.LOST
    states, slowest = [], 0.0
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        assert camera.read() is None
        slowest = max(slowest, time.monotonic() - t0)
        states.append(camera.state)
    assert set(states) == {SourceState.RECONNECTING}
    assert slowest < 0.1  # read() never blocks for long while reconnecting
    gaps = np.diff(opener.calls[1:])
    assert len(gaps) >= 4
    assert gaps[0] == pytest.approx(0.1, abs=0.05) and gaps[1] == pytest.approx(0.2, abs=0.08)  # doubling ...
    assert max(gaps) < 0.35  # ... capped at backoff_max_s

    opener.plugged = True
    deadline = time.monotonic() + 2
    frame = None
    while frame is None and time.monotonic() < deadline:
        frame = camera.read()
    assert frame is not None and camera.state is SourceState.OK
    assert level(frame.image) == 0 and frame.index == 5  # the reopened stream; the index keeps counting
    assert camera.reconnects == 1 and camera.reconnect_attempts >= 4
    camera.close()
    assert camera.read() is None and camera.state is SourceState.ENDED


class Stalling:
    """A capture whose read() takes `delay` seconds and fails, like an IP camera that stopped sending."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return True

    def read(self) -> tuple[bool, None]:
        time.sleep(self.delay)
        return False, None

    def release(self) -> None:
        pass


def test_a_stalled_stream_is_lost_on_its_first_slow_failure() -> None:
    camera = CameraSource(lambda: Stalling(0.3), lost_after_s=0.2, max_failed_reads=5)
    assert camera.read() is None and camera.state is SourceState.LOST  # not after 5 × the read timeout
    camera.close()


def test_camera_close_while_reconnecting_stops_the_thread(tmp_path: Path) -> None:
    opener = Unpluggable(write_avi(tmp_path / "cam.avi", 1))
    camera = CameraSource(opener, backoff_initial_s=0.02, max_failed_reads=1, poll_s=0.01)
    opener.plugged = False
    while camera.state is not SourceState.RECONNECTING:
        camera.read()
    time.sleep(0.1)
    camera.close()
    calls = len(opener.calls)
    time.sleep(0.2)
    assert len(opener.calls) == calls  # no attempts after close
    assert not any(t.name == "camera-reconnect" for t in threading.enumerate())


# --- demo source and demo data -----------------------------------------------------------------------------


def test_demo_frames_contain_the_scheduled_codes() -> None:
    source = DemoSource(seed=2, realtime=False, visitors=3, size=(960, 540))
    assert source.is_file
    chain = make_chain(["zxing", "zbar"], budget_ms=10)
    read_at: dict[bytes, list[float]] = {}
    n = 0
    while (frame := source.read()) is not None:
        n += 1
        assert frame.image.shape == (540, 960, 3) and frame.position == pytest.approx(frame.index / 15)
        for code in chain.decode(frame.image):
            read_at.setdefault(code.data, []).append(frame.position)
    assert source.state is SourceState.ENDED and n == pytest.approx(3 * VISIT_S * 15, abs=1)
    visits = [source.visit(i) for i in range(3)]
    assert set(read_at) == {v.payload.encode() for v in visits}
    for visit in visits:
        positions = read_at[visit.payload.encode()]
        hold_start, hold_end = visit.hold
        held = [p for p in positions if hold_start <= p < hold_end]
        assert len(held) >= 0.9 * (hold_end - hold_start) * 15  # read on (almost) every held frame
        assert all(visit.start <= p <= visit.end for p in positions)  # never outside its visit


def test_demo_schedule_has_returns_duplicates_and_malformed_codes() -> None:
    source = DemoSource(seed=0, realtime=False)
    visits = [source.visit(i) for i in range(60)]
    kinds = {v.kind for v in visits}
    assert kinds == {"new", "return", "again", "malformed"}
    new_payloads = {v.payload for v in visits if v.kind == "new"}
    assert all(v.payload in new_payloads for v in visits if v.kind in ("return", "again"))
    assert [v.payload for v in DemoSource(seed=0, realtime=False).visits_until(10 * VISIT_S)] == [
        v.payload for v in visits[:10]
    ]
    assert visits[1].start == pytest.approx(VISIT_S) and visits[1].hold[0] == pytest.approx(VISIT_S + ENTER_S)


def test_realtime_demo_paces_itself_at_15_fps() -> None:
    source = open_source("demo", demo_seed=1)
    t0 = time.monotonic()
    frames = []
    while time.monotonic() - t0 < 0.6:
        frames.append(source.read())
    assert 7 <= len(frames) <= 11  # ~0.6 s × 15 fps
    assert frames[-1].position == pytest.approx(time.monotonic() - t0, abs=0.15)  # type: ignore[union-attr]


def _check_cccd(person: DemoPerson) -> None:
    fields = person.payload.split("|")
    assert len(fields) == 7
    id_number, _, name, dob, sex, _, issued = fields
    assert len(id_number) == 12 and id_number.isdigit()
    year = int(dob[4:])
    female = sex == "Nữ"
    assert int(id_number[3]) == (year - 1900) // 100 * 2 + female  # century and sex
    assert id_number[4:6] == f"{year % 100:02d}"  # birth year
    assert date(int(dob[4:]), int(dob[2:4]), int(dob[:2])) == person.date_of_birth
    assert date(int(issued[4:]), int(issued[2:4]), int(issued[:2])) >= date(2021, 1, 1)
    assert name == person.full_name and len(name.split()) == 3


def test_cccd_payloads_are_consistent_with_birth_year_and_sex() -> None:
    people = demo_people(200, seed=11)
    assert len({p.id_number for p in people}) == 200
    for person in people:
        _check_cccd(person)
    assert any(p.date_of_birth.year >= 2000 for p in people) and any(p.date_of_birth.year < 2000 for p in people)
    assert {p.sex for p in people} == {"Nam", "Nữ"}
    assert any(
        ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ" for p in people for ch in p.full_name.lower()
    )


def test_demo_helpers_are_deterministic() -> None:
    assert demo_payloads(5, 10) == demo_payloads(5, 10) != demo_payloads(6, 10)
    assert make_cccd_payload(random.Random(1)) == make_cccd_payload(random.Random(1))
    _check_cccd(make_person(random.Random(2)))
    malformed = {make_malformed_payload(random.Random(i)) for i in range(30)}
    assert any(m.startswith("https://") for m in malformed) and any(m.count("|") == 2 for m in malformed)


# --- frame dropping ----------------------------------------------------------------------------------------


def test_latest_frame_slot_keeps_only_the_newest() -> None:
    slot: LatestFrameSlot[int] = LatestFrameSlot()
    assert slot.get(timeout=0.01) is None
    for i in range(5):
        slot.put(i)
    assert slot.get() == 4 and slot.dropped == 4
    assert slot.get(timeout=0.01) is None


def test_latest_frame_slot_with_a_fast_producer_and_a_slow_consumer() -> None:
    slot: LatestFrameSlot[int] = LatestFrameSlot()
    got: list[int] = []

    def consume() -> None:
        while (item := slot.get(timeout=1)) is not None:
            got.append(item)
            time.sleep(0.005)  # decoding takes a while

    consumer = threading.Thread(target=consume)
    consumer.start()
    for i in range(2000):
        slot.put(i)
        if i % 100 == 0:
            time.sleep(0.001)
    slot.close()
    consumer.join(5)
    assert got == sorted(got) and got[-1] == 1999  # always newer, and the last frame is seen
    assert len(got) < 2000 and slot.dropped + slot.delivered == 2000


def test_frame_grabber_feeds_the_slot_until_the_source_ends() -> None:
    slot = LatestFrameSlot()
    grabber = FrameGrabber(DemoSource(seed=1, realtime=False, visitors=1, size=(320, 240)), slot).start()
    frames = []
    while (frame := slot.get(timeout=2)) is not None:
        frames.append(frame.index)
    grabber.stop()
    assert slot.closed and frames and frames == sorted(frames)
    assert frames[-1] == math.ceil(VISIT_S * 15) - 1
