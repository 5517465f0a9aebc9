"""The three sounds exist, are distinct, and playing them without a sound device never raises."""

from __future__ import annotations

import wave

from ui.runtime.sound import NAMES, SOUNDS_DIR, SoundPlayer


def test_wav_files_are_small_distinct_and_readable() -> None:
    contents = {}
    for name in NAMES:
        with wave.open(str(SOUNDS_DIR / f"{name}.wav"), "rb") as wav:
            assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
            assert 0.2 < wav.getnframes() / wav.getframerate() < 1.5  # short enough not to delay the next visitor
            contents[name] = wav.readframes(wav.getnframes())
    assert len(set(contents.values())) == len(NAMES)


def test_playing_without_a_sound_server_does_not_raise(qapp) -> None:
    player = SoundPlayer(enabled=True)
    played: list[str] = []
    player.played.connect(played.append)
    for name in (*NAMES, "no-such-sound"):
        player.play(name)
    assert played == [*NAMES, "no-such-sound"]
