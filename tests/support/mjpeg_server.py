"""A real HTTP MJPEG camera on 127.0.0.1, as cheap IP cameras serve it: `multipart/x-mixed-replace` JPEG parts.

    with MjpegServer(frames, fps=15) as server:
        url = server.url  # http://127.0.0.1:PORT/stream.mjpg

Each connection streams `frames` (BGR images, JPEG-encoded once) in a loop at `fps`. Faults for tests:
`stall_after=N` stops sending after N parts but keeps the connection open (a camera that hangs);
`garbage_after=N` sends parts of random bytes after N good ones; `close_after=N` drops the connection.
Also runnable on its own for benchmarks: `python tests/mjpeg_server.py --port 8090 --seconds 60`."""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

BOUNDARY = "qrcframe"


class MjpegServer:
    def __init__(
        self,
        frames: Sequence[np.ndarray] | Sequence[bytes],
        *,
        fps: float = 15.0,
        quality: int = 80,
        stall_after: int | None = None,
        garbage_after: int | None = None,
        close_after: int | None = None,
        port: int = 0,
    ) -> None:
        self.jpegs = [f if isinstance(f, bytes) else _encode(f, quality) for f in frames]
        self.fps = fps
        self.stall_after, self.garbage_after, self.close_after = stall_after, garbage_after, close_after
        self.parts_sent = 0
        self.connections = 0
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mjpeg-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/stream.mjpg"

    def __enter__(self) -> MjpegServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def stream(self, handler: BaseHTTPRequestHandler) -> None:
        """One client: parts at `fps` until it goes away, the server stops, or a fault says otherwise."""
        self.connections += 1
        interval, start, sent = 1.0 / self.fps, time.monotonic(), 0
        while not self._stop.is_set():
            if self.close_after is not None and sent >= self.close_after:
                return
            if self.stall_after is not None and sent >= self.stall_after:
                self._stop.wait(0.1)  # hold the socket open, send nothing
                continue
            body = self.jpegs[sent % len(self.jpegs)]
            if self.garbage_after is not None and sent >= self.garbage_after:
                body = os.urandom(len(body))
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(body)}\r\n\r\n"
            try:
                handler.wfile.write(head.encode() + body + b"\r\n")
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError, OSError):
                return
            sent += 1
            self.parts_sent += 1
            self._stop.wait(max(0.0, start + sent * interval - time.monotonic()))


def _handler(server: MjpegServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != "/stream.mjpg":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            server.stream(self)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler


def _encode(frame: np.ndarray, quality: int) -> bytes:
    ok, jpg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return jpg.tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description="serve a synthetic 1280x720 MJPEG stream on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    base = np.full((720, 1280, 3), 120, np.uint8)
    frames = [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8) for _ in range(30)]
    with MjpegServer(frames, fps=args.fps, port=args.port) as server:
        print(server.url, flush=True)
        time.sleep(args.seconds)


if __name__ == "__main__":
    main()
