"""Real photographs: the kiosk's still-image chain against zxing-cpp with its default options, per folder.

    python benchmarks/bench_real.py                       # ../shared/testdata/zxing-samples, full size and 1280 px
    python benchmarks/bench_real.py --samples DIR --sizes full 1280 --cli

Each folder of the zxing-cpp sample set is a category. An image NAME.png|jpg|webp holds the payload in NAME.txt
(text) or NAME.bin (bytes). A code counts as read when a decoder returns those bytes (or, for zxing-cpp's own
text output, that text). Folders without expected payloads (multi-1) count the distinct QR payloads read;
falsepositives-* count every QR code reported (each one is a false read). "1280 px" scales the long side of each
photo to 1280 px (INTER_AREA down, bilinear up), as a camera frame of that size would show it.

`--cli` also runs the real `kiosk decode` command on every image at every size (slower: one process per folder
and size) and compares the `text` it prints, as an outside check of the command would.

A payload file holds the payload exactly (zxing-cpp's own runner compares it byte for byte): a trailing newline
in NAME.txt is part of the code. (Until 2026-12-02 this script stripped it, so 11 codes that end in a newline
counted as misses for every decoder.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.decode import make_still_chain  # noqa: E402

DEFAULT_SAMPLES = ROOT.parent / "shared" / "testdata" / "zxing-samples"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
ENCODINGS = ("utf-8", "latin-1", "shift_jis", "gb18030", "big5", "euc-kr", "iso-8859-2")

Reader = Callable[[np.ndarray], list[tuple[bytes, str]]]  # image -> [(bytes, text)] of QR codes


@dataclass
class Item:
    path: Path
    expected: bytes | None  # None: no payload given (multi) or no code at all (falsepositives)


@dataclass
class Tally:
    expected: int = 0
    read: int = 0
    false_reads: int = 0
    distinct: int = 0  # folders without payloads: distinct QR payloads read
    ms: list[float] = field(default_factory=list)


def load_items(folder: Path) -> list[Item]:
    items = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        expected = None
        for suffix in (".bin", ".txt"):
            truth = path.with_suffix(suffix)
            if truth.is_file():
                expected = truth.read_bytes()
                break
        items.append(Item(path, expected))
    return items


def matches(expected: bytes, data: bytes, text: str) -> bool:
    """The zxing samples give the payload as UTF-8 text after ECI/charset handling: compare bytes and text."""
    if data == expected or text.encode("utf-8") == expected:
        return True
    for encoding in ENCODINGS:
        try:
            if data.decode(encoding).encode("utf-8") == expected:
                return True
        except UnicodeDecodeError:
            continue
    return False


def zxing_defaults() -> Reader:
    import zxingcpp

    def read(image: np.ndarray) -> list[tuple[bytes, str]]:
        results = zxingcpp.read_barcodes(image)  # every option at the library's default
        return [(bytes(r.bytes), r.text) for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]

    return read


def kiosk_chain() -> Reader:
    chain = make_still_chain()

    def read(image: np.ndarray) -> list[tuple[bytes, str]]:
        return [(code.data, code.data.decode("utf-8", errors="replace")) for code in chain.decode(image)]

    return read


def load_image(path: Path) -> np.ndarray:
    """The photo as BGR; OpenCV cannot open a 1x1 WebP, Pillow can (both readers get the same pixels)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        from PIL import Image

        with Image.open(path) as pil:
            image = cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR)
    return image


def scaled(image: np.ndarray, size: str) -> np.ndarray:
    if size == "full" or image.size <= 1:
        return image
    long_side = int(size)
    factor = long_side / max(image.shape[:2])
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, None, fx=factor, fy=factor, interpolation=interp)


def measure(items: list[Item], images: list[np.ndarray], reader: Reader, kind: str) -> Tally:
    tally = Tally()
    for item, image in zip(items, images, strict=True):
        if item.expected is not None:
            tally.expected += 1
        t0 = time.perf_counter()
        codes = reader(image)
        tally.ms.append((time.perf_counter() - t0) * 1000)
        if kind == "false":
            tally.false_reads += len(codes)
        elif item.expected is None:
            tally.distinct += len({data for data, _ in codes})
        else:
            tally.read += any(matches(item.expected, data, text) for data, text in codes)
    return tally


def cli_counts(folder: Path, items: list[Item], images: list[np.ndarray], size: str) -> int:
    """Codes read by the real `kiosk decode` command on the folder's images (scaled ones written as PNG first),
    compared by the `text` it prints, as a user of the command would."""
    kiosk = Path(sys.executable).with_name("kiosk")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [item.path for item in items]
        if size != "full":
            paths = [Path(tmp) / f"{item.path.stem}.png" for item in items]
            for path, image in zip(paths, images, strict=True):
                cv2.imwrite(str(path), image)
        proc = subprocess.run(
            [str(kiosk), "decode", *(str(path) for path in paths)], capture_output=True, text=True, timeout=900
        )
    by_file: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        by_file.setdefault(record["file"], []).append(record["text"])
    read = 0
    for item, path in zip(items, paths, strict=True):
        texts = by_file.get(str(path), [])
        if item.expected is None:
            read += len(set(texts))
        else:
            read += any(matches(item.expected, text.encode("utf-8"), text) for text in texts)
    return read


def cell(tally: Tally, kind: str) -> str:
    if kind == "false":
        return f"{tally.false_reads} false"
    if tally.expected == 0:
        return f"{tally.distinct} codes"
    return f"{tally.read}/{tally.expected}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=Path, default=DEFAULT_SAMPLES)
    parser.add_argument("--sizes", nargs="+", default=["full", "1280"])
    parser.add_argument("--cli", action="store_true", help="also run `kiosk decode` at every size")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    readers = {"zxing defaults": zxing_defaults(), "kiosk chain": kiosk_chain()}
    totals: dict[tuple[str, str], list[int]] = {}
    print(f"samples: {args.samples}")
    header = "| folder | size | " + " | ".join(readers) + " | median ms (" + ", ".join(readers) + ") |"
    if args.cli:
        header = header.replace(" | median", " | `kiosk decode` | median")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for folder in sorted(p for p in args.samples.iterdir() if p.is_dir()):
        items = load_items(folder)
        kind = "false" if folder.name.startswith("falsepositives") else "codes"
        originals = [load_image(item.path) for item in items]
        for size in args.sizes:
            images = [scaled(image, size) for image in originals]
            tallies = {name: measure(items, images, reader, kind) for name, reader in readers.items()}
            cells = [cell(tallies[name], kind) for name in readers]
            if args.cli:
                cells.append(f"{cli_counts(folder, items, images, size)}")
            times = ", ".join(f"{np.median(t.ms):.1f}" for t in tallies.values())
            print(f"| {folder.name} | {size} | " + " | ".join(cells) + f" | {times} |")
            for name, tally in tallies.items():
                total = totals.setdefault((name, size), [0, 0, 0])
                total[0] += tally.read
                total[1] += tally.expected
                total[2] += tally.false_reads
    for (name, size), (read, expected, false) in sorted(totals.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        rate = 100.0 * read / expected if expected else 0.0
        print(f"all photos with a payload, {size}, {name}: {read}/{expected} = {rate:.1f} %; false reads {false}")


if __name__ == "__main__":
    main()
