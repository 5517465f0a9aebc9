"""`python -m tests.support.wait_for_port PORT [SECONDS]`: wait until something listens on 127.0.0.1:PORT."""

from __future__ import annotations

import socket
import sys
import time


def wait(port: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return True
        except OSError:
            time.sleep(0.2)
    return False


if __name__ == "__main__":
    sys.exit(0 if wait(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 30.0) else 1)
