"""Writes the station's three sounds (accept / warn / reject) as small mono 16-bit WAV files.

Run `python assets/make_sounds.py`; the results are committed, so this only runs when a sound changes.
Distinct by shape, not only pitch (some guards are hard of hearing in one range): accept is a rising two-note
chime, warn two equal mid beeps, reject a low buzz three times.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050
HERE = Path(__file__).resolve().parent / "sounds"


def tone(freq: float, seconds: float, volume: float = 0.5, square: bool = False) -> np.ndarray:
    """One note with 8 ms fade in/out (no clicks)."""
    t = np.arange(int(RATE * seconds)) / RATE
    wave_ = np.sin(2 * np.pi * freq * t)
    if square:
        wave_ = np.sign(wave_) * 0.6 + 0.4 * np.sin(2 * np.pi * freq * 2 * t)
    fade = min(len(t) // 2, int(RATE * 0.008))
    envelope = np.ones_like(t)
    envelope[:fade] = np.linspace(0, 1, fade)
    envelope[-fade:] = np.linspace(1, 0, fade)
    return wave_ * envelope * volume


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds))


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


SOUNDS = {
    "accept": lambda: np.concatenate([tone(880, 0.12), silence(0.02), tone(1320, 0.2)]),
    "warn": lambda: np.concatenate([tone(660, 0.15), silence(0.08), tone(660, 0.15)]),
    "reject": lambda: np.concatenate([tone(220, 0.14, square=True), silence(0.05)] * 3),
}


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, make in SOUNDS.items():
        write_wav(HERE / f"{name}.wav", make())
        print(f"wrote {HERE / (name + '.wav')}")


if __name__ == "__main__":
    main()
