"""The store's files on disk: private modes, and a high-water mark of committed events kept apart from SQLite.

Personal data (names, ID numbers, birth dates) lives in the database and its WAL: the files are 0600 and a
folder the store creates, or the default data folder, 0700; an existing install is tightened when it opens.

The high-water mark: after every committed event the store writes its sequence number into `<db>.hwm` (no
fsync: the number is written after the commit, so on disk it can only lag the database, never lead it). On
open, a database whose highest sequence number is below the mark has lost committed events, as a damaged WAL
does silently (SQLite stops replaying at the first bad frame). SQLite alone cannot notice that.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def create_private_folders(folder: Path) -> list[Path]:
    """Create `folder` and any missing parents with mode 0700; returns the folders created."""
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for created in reversed(missing):
        created.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        os.chmod(created, PRIVATE_FOLDER)  # mkdir's mode is filtered by the umask
    return list(reversed(missing))


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists, so SQLite never makes it with the umask's mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    except FileExistsError:
        pass


def tighten(db_path: Path, private_folder: bool) -> None:
    """The database and its companion files 0600 (SQLite gives the WAL the database's mode); the folder 0700
    when it is ours. Files we do not own are left alone: changing them is not this program's call."""
    for suffix in (*SQLITE_COMPANIONS, HighWaterMark.SUFFIX):
        _chmod_if_owned(db_path.with_name(db_path.name + suffix), PRIVATE_FILE)
    if private_folder:
        _chmod_if_owned(db_path.parent, PRIVATE_FOLDER)


def _chmod_if_owned(path: Path, mode: int) -> None:
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and (info.st_mode & 0o777) != mode:
            os.chmod(path, mode)
    except FileNotFoundError:
        pass


class HighWaterMark:
    """The highest committed event sequence number, in a small file beside the database."""

    SUFFIX = ".hwm"
    WIDTH = 20

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + self.SUFFIX)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
        self._lock = threading.Lock()
        self._written = self.read() or 0

    def read(self) -> int | None:
        """The mark on disk; None when there is none yet (a new store, or an unreadable file)."""
        text = os.pread(self._fd, self.WIDTH + 1, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None

    def advance(self, seq: int) -> None:
        """Record that `seq` is committed (never lowers the mark)."""
        with self._lock:
            if seq > self._written:
                os.pwrite(self._fd, f"{seq:0{self.WIDTH}d}\n".encode("ascii"), 0)
                self._written = seq

    def reset(self, seq: int) -> None:
        """Set the mark to `seq` after a loss was noticed, so that it is reported once."""
        with self._lock:
            os.pwrite(self._fd, f"{seq:0{self.WIDTH}d}\n".encode("ascii"), 0)
            self._written = seq

    def close(self) -> None:
        os.close(self._fd)
