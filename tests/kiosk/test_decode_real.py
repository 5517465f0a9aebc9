"""Real photographs (zxing-cpp's sample images) and awkward files: the chain never reads fewer codes than
zxing-cpp with its default options, reads nothing where there is no code, and every odd file gets one line or a
result while the run goes on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import zxingcpp
from PIL import Image

from kiosk.decode import make_chain, make_still_chain
from kiosk.decode.images import ImageUnreadable, load_image
from kiosk.sources.files import ImageFolderSource
from tests.support.media import qr_image
from tests.support.paths import REPO_ROOT, SHARED_TESTDATA

SAMPLES = SHARED_TESTDATA / "zxing-samples"
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="shared/testdata/zxing-samples not present")


def _folders(prefix: str) -> list[Path]:
    return sorted(p for p in SAMPLES.glob(f"{prefix}*") if p.is_dir()) if SAMPLES.is_dir() else []


@needs_samples
@pytest.mark.parametrize("folder", _folders("qrcode-") + _folders("multi-"), ids=lambda p: p.name)
def test_the_chain_reads_every_code_zxing_defaults_read(folder: Path) -> None:
    from bench_real import load_image as bench_load
    from bench_real import load_items, matches

    chain = make_still_chain()
    lost = []
    for item in load_items(folder):
        image = bench_load(item.path)
        library = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
        ours = chain.decode(image)
        if item.expected is None:  # no payload given: every distinct code the library read, we read too
            missing = {bytes(r.bytes) for r in library} - {c.data for c in ours}
            lost += [f"{item.path.name}: {m!r}" for m in missing]
        elif any(matches(item.expected, bytes(r.bytes), r.text) for r in library):
            if not any(matches(item.expected, c.data, c.data.decode("utf-8", "replace")) for c in ours):
                lost.append(item.path.name)
    assert lost == [], f"zxing-cpp defaults read these, the chain did not: {lost}"


@needs_samples
@pytest.mark.parametrize("folder", _folders("falsepositives-"), ids=lambda p: p.name)
def test_no_false_reads_on_photos_without_a_code(folder: Path) -> None:
    from bench_real import load_image as bench_load

    chain, camera = make_still_chain(), make_chain(budget_ms=25)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() in (".png", ".jpg", ".webp"):
            image = bench_load(path)
            assert chain.decode(image) == [] and camera.decode(image) == [], path.name


@needs_samples
def test_a_textured_code_only_the_global_binariser_reads_is_read_at_full_size_and_1280() -> None:
    """qrcode-2/12: a picture printed inside the modules and no quiet zone. zxing-cpp's defaults (LocalAverage)
    and every LocalAverage step of the chain miss it; GlobalHistogram on the photo's half reads it."""
    from bench_real import load_image as bench_load
    from bench_real import load_items, matches, scaled

    item = next(i for i in load_items(SAMPLES / "qrcode-2") if i.path.name == "12.webp")
    assert item.expected is not None
    for size in ("full", "1280"):
        image = scaled(bench_load(item.path), size)
        assert not any(matches(item.expected, bytes(r.bytes), r.text) for r in zxingcpp.read_barcodes(image))
        codes = make_still_chain().decode(image)
        assert any(matches(item.expected, c.data, c.display_text()) for c in codes), size
        assert {c.engine for c in codes if matches(item.expected, c.data, "")} <= {"zxing-global/half"}


@needs_samples
def test_kiosk_decode_prints_shift_jis_payloads_as_their_text() -> None:
    """A payload without ECI in Shift-JIS: the printed text is zxing-cpp's (the bytes decoded as Shift-JIS),
    not UTF-8 replacement characters; the credential still comes from the bytes."""
    path = SAMPLES / "qrcode-2" / "10.png"
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "decode", str(path)], capture_output=True, text=True, timeout=120
    )
    texts = [json.loads(line)["text"] for line in result.stdout.splitlines()]
    assert texts == [path.with_suffix(".txt").read_bytes().decode("utf-8")]
    assert "\ufffd" not in texts[0]


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory) -> dict[str, Path]:
    """One file of each awkward kind, most of them holding a real code."""
    folder = tmp_path_factory.mktemp("odd")
    qr = qr_image(b"odd file", 8)
    card = cv2.cvtColor(qr, cv2.COLOR_GRAY2BGR)
    files = {name: folder / name for name in ("big.jpg", "one.png", "one.webp", "trunc.jpg", "deep.png")}
    files |= {name: folder / name for name in ("gray16.png", "cmyk.jpg", "card.webp", "text.png")}
    big = np.full((6000, 8400, 3), 210, np.uint8)  # 50.4 megapixels, the code small in one corner
    big[4100 : 4100 + qr.shape[0], 6000 : 6000 + qr.shape[1]] = qr[:, :, None]
    cv2.imwrite(str(files["big.jpg"]), big, [cv2.IMWRITE_JPEG_QUALITY, 85])
    cv2.imwrite(str(files["one.png"]), np.zeros((1, 1, 3), np.uint8))
    Image.new("RGB", (1, 1)).save(files["one.webp"])
    ok, jpg = cv2.imencode(".jpg", card)
    files["trunc.jpg"].write_bytes(jpg.tobytes()[: len(jpg) // 2])
    cv2.imwrite(str(files["deep.png"]), card.astype(np.uint16) * 257)
    Image.fromarray(qr.astype(np.uint16) * 257).save(files["gray16.png"])
    Image.fromarray(cv2.cvtColor(card, cv2.COLOR_BGR2RGB)).convert("CMYK").save(files["cmyk.jpg"])
    cv2.imwrite(str(files["card.webp"]), card)
    files["text.png"].write_text("not an image")
    return files


def test_kiosk_decode_gives_every_odd_file_a_line_or_a_result(odd_files: dict[str, Path]) -> None:
    names = list(odd_files)
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "decode", *(str(odd_files[n]) for n in names)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    read = {Path(json.loads(line)["file"]).name for line in result.stdout.splitlines()}
    assert read == {"big.jpg", "deep.png", "gray16.png", "cmyk.jpg", "card.webp"}
    lines = {n: [line for line in result.stderr.splitlines() if f"/{n}:" in line] for n in names}
    assert lines["one.png"] == [f"kiosk: {odd_files['one.png']}: no QR code found (1x1)"]
    assert lines["one.webp"] == [f"kiosk: {odd_files['one.webp']}: no QR code found (1x1)"]
    assert lines["text.png"] == [f"kiosk: {odd_files['text.png']}: not a readable image"]
    assert any("truncated JPEG" in line for line in lines["trunc.jpg"])
    assert all(line.startswith("kiosk: ") for line in result.stderr.splitlines()), result.stderr


def test_load_image_refuses_a_decompression_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)  # 400 megapixels in a small file
    with pytest.raises(ImageUnreadable, match="MP allowed"):
        load_image(bomb)


def test_the_folder_source_goes_through_odd_files(odd_files: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, path in odd_files.items():
        (folder / name).write_bytes(path.read_bytes())
    source = ImageFolderSource(folder)
    chain = make_chain(budget_ms=25)
    read = []
    while (frame := source.read()) is not None:
        if chain.decode(frame.image):
            read.append(frame.index)
    assert [p.name for p in source.skipped] == ["text.png"]
    assert len(read) >= 5  # the 50 MP photo, 16-bit, CMYK and WebP cards are read at camera budgets too
