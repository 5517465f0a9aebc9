"""A fleet from one sheet (issue 14): `kiosk-server kiosk add --count N --sheet FILE.pdf` makes N kiosks and a
printable sheet whose QRs the station's own decoder reads back as enrolment codes for this server."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from kiosk.decode import make_chain
from server.fleet_sheet import SheetEntry, render_sheet
from sync.protocol_pull import enrollment_qr_payload, parse_enrollment_qr
from tests.support.paths import REPO_ROOT

SERVER_URL = "https://kiosks.so-y-te.example"


def kiosk_server(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120
    )


def test_the_cli_makes_n_kiosks_and_a_sheet(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    venue = kiosk_server("venue", "add", "--db", db, "--name", "Siêu thị Co.opmart").stdout.split()[-1]
    sheet = tmp_path / "fleet.pdf"
    done = kiosk_server(
        "kiosk",
        "add",
        "--db",
        db,
        "--venue",
        venue,
        "--count",
        "7",
        "--name",
        "Cổng",
        "--sheet",
        str(sheet),
        "--server-url",
        SERVER_URL,
    )
    assert done.returncode == 0, done.stderr
    codes = done.stdout.split()
    assert len(codes) == 7 and len(set(codes)) == 7
    pdf = sheet.read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 2  # 6 + 1
    listing = kiosk_server("venue", "show", "--db", db, "--venue", venue).stdout
    assert "Cổng 1" in listing and "Cổng 7" in listing


def test_a_sheet_needs_the_server_address(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'server.db'}"
    venue = kiosk_server("venue", "add", "--db", db, "--name", "V").stdout.split()[-1]
    done = kiosk_server(
        "kiosk", "add", "--db", db, "--venue", venue, "--count", "2", "--sheet", str(tmp_path / "x.pdf")
    )
    assert done.returncode != 0 and "--server-url" in done.stderr and done.stderr.count("\n") == 1


def test_the_printed_codes_read_back_with_the_station_decoder() -> None:
    entries = [
        SheetEntry(i, f"Cổng {i}", enrollment_qr_payload(f"CODE{i:04d}XYZ", SERVER_URL), f"CODE{i:04d}XYZ")
        for i in range(1, 7)
    ]
    (page,) = render_sheet(entries, "Bệnh viện Nhi Đồng 1", datetime.now(UTC) + timedelta(days=7))
    small = page.convert("RGB").resize((page.width // 2, page.height // 2))  # a phone photo of the sheet, roughly
    codes = make_chain(["zxing"], budget_ms=500).decode(np.asarray(small)[:, :, ::-1].copy())
    read = sorted(parse_enrollment_qr(code.data) for code in codes)
    assert read == sorted((f"CODE{i:04d}XYZ", SERVER_URL) for i in range(1, 7))
