"""The kiosk's local SQLite store: `Store.open(path)`; every failure is a one-line `StoreError`."""

from __future__ import annotations

from .errors import StoreError
from .store import Store

__all__ = ["Store", "StoreError"]
