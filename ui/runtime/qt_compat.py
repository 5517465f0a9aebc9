"""A work-around for PySide6 6.12.0: every `SignalInstance.emit()` called from Python returns `True` without
taking a reference, so each emit lowers True's reference count by one and a long-running station dies with
"Fatal Python error: bool_dealloc" (measured here: -1 per emit, any thread, connected or not).

`emit(signal, *args)` emits and, only when the running binding has that bug (probed once at import), gives
back the missing reference. All of ui/ emits through it.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBES = 16


class _Probe(QObject):
    fired = Signal()


def _emit_steals_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.fired.emit()
    return before - sys.getrefcount(True) >= _PROBES


_INCREF = ctypes.pythonapi.Py_IncRef
_INCREF.argtypes = [ctypes.py_object]
_INCREF.restype = None
EMIT_LEAKS = _emit_steals_a_reference()
if EMIT_LEAKS:  # repay the probe's own stolen references
    for _ in range(_PROBES):
        _INCREF(True)


def emit(signal: SignalInstance, *args: object) -> None:
    """`signal.emit(*args)`, safe on bindings whose emit steals a reference to its return value."""
    result = signal.emit(*args)  # type: ignore[func-returns-value]  # the stub says None; it returns True
    if EMIT_LEAKS and result is not None:
        _INCREF(result)
