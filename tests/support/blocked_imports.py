"""Python code to put before a script run with `python -c`, so that some packages cannot be imported in it:
how the tests run the server (or the kiosk command) as if the station's packages were not installed."""

from __future__ import annotations

# The station extra's modules: the camera, the decoders, Qt, the serial scanner, the sync client's HTTP library.
STATION_MODULES = ("cv2", "numpy", "zxingcpp", "pyzbar", "PySide6", "shiboken6", "serial", "requests")

_PRELUDE = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is a station package: blocked", name=name)
        return None
sys.meta_path.insert(0, Blocker())
"""


def blocking_prelude(modules: tuple[str, ...]) -> str:
    return _PRELUDE.format(blocked=modules)
