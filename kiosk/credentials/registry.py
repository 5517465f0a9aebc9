"""From QR bytes to a Credential or a Rejection: size check, then the first format whose sniff matches.

Formats plug in through the `CredentialFormat` protocol (kiosk.credentials.base). A format module makes itself
known to `default_formats()` by exposing either `FORMAT` (an instance) or `FORMATS` (a sequence of instances),
or, failing that, one class whose name ends in "Format" that takes no constructor arguments. The signed
formats (`personal`, `dcc`) are imported lazily and only if present, so this module works without them.

A parser that raises is a bug, but a bug must not take the kiosk down: it becomes a "malformed" Rejection and
a log line naming the format and the exception type only (the payload is personal data).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType

from kiosk.credentials.base import Credential, CredentialFormat, ParseContext, ParseResult, Rejection
from kiosk.credentials.cccd import FORMAT as CCCD_FORMAT
from kiosk.credentials.opaque import parse_unknown
from kiosk.credentials.pccovid import FORMAT as PCCOVID_FORMAT
from kiosk.credentials.text import MAX_PAYLOAD_BYTES

logger = logging.getLogger(__name__)

# Signed formats first: they announce themselves with a prefix, so their sniff is exact.
OPTIONAL_FORMAT_MODULES = ("kiosk.credentials.personal", "kiosk.credentials.dcc")


@lru_cache(maxsize=1)
def default_formats() -> tuple[CredentialFormat, ...]:
    """Every format this kiosk can read, in sniffing order; optional modules only if they import."""
    found: list[CredentialFormat] = []
    for module_name in OPTIONAL_FORMAT_MODULES:
        module = _import_optional(module_name)
        if module is not None:
            found.extend(formats_from_module(module))
    found.extend((CCCD_FORMAT, PCCOVID_FORMAT))
    return tuple(found)


def _import_optional(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            logger.debug("optional credential format %s is not installed", module_name)
        else:
            logger.warning("credential format %s needs a missing module: %s", module_name, exc.name)
    except Exception as exc:  # noqa: BLE001 - a broken optional format must not stop the kiosk
        logger.warning("credential format %s failed to import: %s", module_name, type(exc).__name__)
    return None


def formats_from_module(module: ModuleType) -> list[CredentialFormat]:
    """The format instances a module offers (see the module docstring for the convention)."""
    single = getattr(module, "FORMAT", None)
    if single is not None:
        return [single]
    several = getattr(module, "FORMATS", None)
    if several is not None:
        return list(several)
    for name, obj in vars(module).items():
        if _is_format_class(module, name, obj):
            try:
                return [obj()]
            except Exception as exc:  # noqa: BLE001
                logger.warning(
                    "credential format %s.%s could not be built: %s", module.__name__, name, type(exc).__name__
                )
    return []


def _is_format_class(module: ModuleType, name: str, obj: object) -> bool:
    return (
        isinstance(obj, type)
        and name.endswith("Format")
        and obj.__module__ == module.__name__
        and callable(getattr(obj, "sniff", None))
        and callable(getattr(obj, "parse", None))
    )


def too_large(data: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> Rejection | None:
    """A Rejection when the payload is bigger than any QR we read can carry, else None."""
    if len(data) <= max_bytes:
        return None
    return Rejection(
        kind="unknown",
        code="too_large",
        reason=f"payload too large ({len(data)} bytes; a check-in code is at most {max_bytes})",
    )


def parse_payload(
    data: bytes,
    context: ParseContext,
    formats: Sequence[CredentialFormat] | None = None,
    *,
    accept_opaque: bool = False,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> ParseResult:
    """Parse one presented code. Never raises on any bytes: a Credential, or a Rejection with a reason.

    `formats` defaults to `default_formats()`. `accept_opaque`: venue policy accepting unknown codes as
    opaque ids (identified by digest). `max_bytes`: payloads longer than this are refused unread.
    """
    if isinstance(data, str):  # a keyboard-mode scanner hands us text
        data = data.encode("utf-8", "surrogatepass")
    elif not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse_payload needs bytes, not {type(data).__name__}")  # a caller's bug, not input
    data = bytes(data)
    oversize = too_large(data, max_bytes)
    if oversize is not None:
        return oversize
    for fmt in default_formats() if formats is None else formats:
        if _sniff(fmt, data):
            return _parse(fmt, data, context)
    return parse_unknown(data, accept_opaque=accept_opaque)


def _sniff(fmt: CredentialFormat, data: bytes) -> bool:
    try:
        return bool(fmt.sniff(data))
    except Exception as exc:  # noqa: BLE001 - a bug in one format must not hide the others
        logger.error("credential format %s: sniff raised %s", _kind(fmt), type(exc).__name__)
        return False


def _parse(fmt: CredentialFormat, data: bytes, context: ParseContext) -> ParseResult:
    kind = _kind(fmt)
    try:
        result = fmt.parse(data, context)
    except Exception as exc:  # noqa: BLE001 - a parser bug becomes a rejection, not a crash
        logger.error("credential format %s: parse raised %s", kind, type(exc).__name__)
        return _internal_error(kind)
    if not isinstance(result, (Credential, Rejection)):
        logger.error("credential format %s: parse returned %s", kind, type(result).__name__)
        return _internal_error(kind)
    return result


def _internal_error(kind: str) -> Rejection:
    return Rejection(kind=kind, code="malformed", reason="This code could not be read (internal error); ask staff")


def _kind(fmt: object) -> str:
    kind = getattr(fmt, "kind", None)
    return kind if isinstance(kind, str) else type(fmt).__name__
