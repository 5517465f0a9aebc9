"""The stabiliser: N consecutive frames make one presentation; flicker never makes two; a code gone for longer
than forget_after_s can be presented again. Driven by hand-made sequences and by real decodes of a real video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.decode import make_chain
from kiosk.decode.base import DecodedCode
from kiosk.sources import VideoFileSource, scene
from kiosk.stabilize import LatestFrameSlot, Stabilizer

FPS = 15.0


def code(data: bytes) -> DecodedCode:
    return DecodedCode(data, ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)), "zxing")


def run(stab: Stabilizer, pattern: str, data: bytes = b"A", start: float = 0.0) -> list[float]:
    """Feeds one frame per character ('x' = code seen, '.' = not) at 15 fps; returns when presentations happened."""
    presented = []
    for i, ch in enumerate(pattern):
        position = start + i / FPS
        for c in stab.update([code(data)] if ch == "x" else [], position):
            assert c.data == data
            presented.append(round(position * FPS))
    return presented


def test_presented_once_after_n_consecutive_frames() -> None:
    stab = Stabilizer(min_frames=3, forget_after_s=1.5)
    assert run(stab, "xxxxxxxxxxxx") == [2]


def test_broken_streaks_do_not_present() -> None:
    assert run(Stabilizer(min_frames=3), "xx.xx.x.xx.") == []
    assert run(Stabilizer(min_frames=3), "xx.xxx") == [5]


def test_flicker_never_makes_two_presentations() -> None:
    stab = Stabilizer(min_frames=3, forget_after_s=1.5)
    # seen, then gaps of 1, 3, 8 and 14 frames (up to ~0.93 s) while the phone is still in front of the camera
    pattern = "xxxx" + "." + "xxx" + "..." + "xx" + "........" + "xxxxx" + "." * 14 + "xxxx"
    assert run(stab, pattern) == [2]


def test_presented_again_after_being_gone_longer_than_forget_after() -> None:
    stab = Stabilizer(min_frames=2, forget_after_s=1.0)
    # gone for 16 frames (last read 1.13 s before) > 1.0 s: a new presentation; then gone 12 frames: not
    pattern = "xxx" + "." * 16 + "xxx" + "." * 12 + "xxx"
    assert run(stab, pattern) == [1, 20]


def test_forgotten_even_when_no_frames_were_processed_in_between() -> None:
    stab = Stabilizer(min_frames=1, forget_after_s=1.0)
    assert run(stab, "x", start=0.0) == [0]
    assert run(stab, "x", start=5.0) == [75]  # the loop paused; the old track must not hide this one


def test_two_codes_are_tracked_independently() -> None:
    stab = Stabilizer(min_frames=2, forget_after_s=1.0)
    out = []
    frames = [[b"A"], [b"A", b"B"], [b"A", b"B"], [b"B"], [b"B", b"A"]]
    for i, datas in enumerate(frames):
        out.append(sorted(c.data for c in stab.update([code(d) for d in datas], i / FPS)))
    assert out == [[], [b"A"], [b"B"], [], []]
    assert sorted(stab.in_view()) == [b"A", b"B"]


def test_duplicates_in_one_frame_count_once() -> None:
    stab = Stabilizer(min_frames=1)
    assert len(stab.update([code(b"A"), code(b"A")], 0.0)) == 1


def test_position_going_backwards_resets() -> None:
    stab = Stabilizer(min_frames=1, forget_after_s=10)
    assert len(stab.update([code(b"A")], 5.0)) == 1
    assert stab.update([code(b"A")], 5.1) == []
    assert len(stab.update([code(b"A")], 0.0)) == 1  # a new video started


def test_min_frames_one_and_bad_arguments() -> None:
    assert run(Stabilizer(min_frames=1), "x.x") == [0]
    with pytest.raises(ValueError):
        Stabilizer(min_frames=0)
    with pytest.raises(ValueError):
        Stabilizer(forget_after_s=0)


def test_real_video_with_glare_flicker_gives_one_presentation_per_visit(tmp_path: Path) -> None:
    """A phone held 1.5 s, with frames where glare hides the code, then a second visit of the same person
    after a 3 s gap: exactly two presentations, at the right times, read by the real chain from a real .avi."""
    payload = "Nguyễn Văn Ánh".encode()
    bg = scene.background(640, 480, seed=3)
    qr = scene.qr_image(payload, 4)
    plan = ["."] * 5 + ["x"] * 22 + ["."] * 45 + ["x"] * 22 + ["."] * 5
    for i in (9, 10, 15, 20, 21, 22):  # glare washes the code out on these frames of the first visit
        plan[i] = "g"
    path = tmp_path / "visits.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    for ch in plan:
        frame = bg.copy()
        if ch != ".":
            frame[150 : 150 + qr.shape[0], 250 : 250 + qr.shape[1]] = qr[:, :, None]
        if ch == "g":
            frame[100:400, 200:480] = 255  # a blown-out reflection over the whole screen
        writer.write(frame)
    writer.release()

    source, chain, stab = VideoFileSource(path), make_chain(["zxing", "zbar"], budget_ms=30), Stabilizer(3, 2.0)
    seen_on, presented_at = [], []
    while (frame := source.read()) is not None:
        codes = chain.decode(frame.image)
        if codes:
            seen_on.append(frame.index)
        presented_at += [frame.index for c in stab.update(codes, frame.position) if c.data == payload]
    assert {9, 10, 15, 20, 21, 22}.isdisjoint(seen_on) and len(seen_on) == 44 - 6  # the flicker is real
    assert presented_at == [7, 74]


def test_stabilize_reexports_the_frame_slot() -> None:
    slot: LatestFrameSlot[np.ndarray] = LatestFrameSlot()
    slot.put(np.zeros(1))
    assert slot.get(timeout=0) is not None
