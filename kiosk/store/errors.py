"""The one exception the local store raises."""

from __future__ import annotations


class StoreError(Exception):
    """A one-line, user-presentable failure of the local store (open, write, or bad input).

    The message never contains personal data (names, ID numbers): it may be logged and shown to a guard."""
