"""Former home of the personal-QR tables; they are now in `sync.server.models`, created by Alembic revision 0002.

Kept only so that older imports keep working: the private halves of signing keys are columns of `signing_keys`
(`private_key`, `encrypted`), so `private_keys` is that table. New code imports from `sync.server.models`.
"""

from __future__ import annotations

from sync.server.models import declarations, persons
from sync.server.models import signing_keys as private_keys

__all__ = ["declarations", "persons", "private_keys"]
