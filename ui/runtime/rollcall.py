"""The roll-call on paper: everyone inside now, as an A4 PDF (and on the default printer when there is one).

For an evacuation the list carries full names (it is reached only through the PIN) and the last digits of the ID
number, the time of entry and the flags; one line per person, sorted by name, with the count and the time.
The file is written 0600 next to the events database: it holds personal data.
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from kiosk.events import StoredEvent
from kiosk.privacy import mask_id, sanitize_for_display


def rollcall_html(inside: Sequence[StoredEvent], venue: str, now: datetime, zone: ZoneInfo, title: str) -> str:
    """The list as HTML for QTextDocument; every stored text is escaped (a name is not markup)."""
    rows = []
    ordered = sorted(inside, key=lambda e: sanitize_for_display(e.full_name, 80).casefold())
    for number, event in enumerate(ordered, start=1):
        cells = (
            str(number),
            sanitize_for_display(event.full_name, 80),
            mask_id(event.id_number),
            event.wall_time.astimezone(zone).strftime("%H:%M"),
            ", ".join(event.flags),
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    heading = html.escape(f"{title}: {venue}" if venue else title)
    when = html.escape(now.astimezone(zone).strftime("%d/%m/%Y %H:%M"))
    return (
        '<html><body style=\'font-family: "Noto Sans", "DejaVu Sans"; font-size: 10pt\'>'
        f"<h2>{heading}</h2><p>{when} · {len(ordered)}</p>"
        "<table border='1' cellspacing='0' cellpadding='4' width='100%'>"
        "<tr><th>#</th><th>Name / Họ tên</th><th>ID</th><th>In / Vào</th><th>Flags</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def write_rollcall_pdf(markup: str, path: Path) -> Path:
    """The HTML as an A4 PDF at `path` (created 0600); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    writer = QPdfWriter(str(path))
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(15, 15, 15, 15))
    )
    writer.setResolution(300)
    document = QTextDocument()
    document.setHtml(markup)
    document.setPageSize(QSizeF(writer.width(), writer.height()))
    document.print_(writer)
    return path


def print_on_default_printer(markup: str) -> str:
    """Sends the list to the system's default printer; returns its name, or "" when there is none."""
    from PySide6.QtPrintSupport import QPrinter, QPrinterInfo  # only here: printing support is optional

    info = QPrinterInfo.defaultPrinter()
    if info.isNull():
        return ""
    printer = QPrinter(info)
    document = QTextDocument()
    document.setHtml(markup)
    document.print_(printer)
    return info.printerName()
