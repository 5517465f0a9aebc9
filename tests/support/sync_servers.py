"""Real HTTP parts for the sync tests: a small protocol-v1 server, a fault-injecting proxy, the real server.

- `ImitationServer`: speaks protocol v1 through `sync.protocol` (so a change of the wire format breaks it too),
  keeps what it stored in a real SQLite file, and counts how often each event arrived.
- `FaultProxy`: sits between the kiosk and any server (the imitation or the real one) and, on cue, answers
  500, 429/503 with Retry-After, hangs past the client's timeout, cuts the connection mid-answer, answers
  slowly, or resets the connection: the faults a venue's Wi-Fi and an overloaded server produce.

The real server (`kiosk-server serve`) is `tests.support.postgres.LiveServer`; the imitation is for what a test must
control precisely (a server that leaves events out of its answer, answers in another spelling, a TLS listener).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.events import Direction, NewEvent
from sync import protocol, protocol_pull
from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
TOKEN = "test-token-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_events(count: int, start: datetime | None = None, prefix: str = "") -> list[NewEvent]:
    """Synthetic entries/exits with Vietnamese names (diacritics) and realistic ID numbers."""
    start = start or datetime.now(UTC) - timedelta(hours=2, seconds=count)  # one a second, all in the past
    names = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hương", "Võ Minh Khôi")
    out = []
    for i in range(count):
        id_number = f"0790{(95 + i) % 100:02d}{i:06d}"
        out.append(
            NewEvent(
                direction=Direction.ENTRY if i % 2 == 0 else Direction.EXIT,
                credential="cccd",
                person_key=id_number,
                id_number=id_number,
                full_name=prefix + names[i % len(names)],
                date_of_birth=None,
                wall_time=start + timedelta(seconds=i),
                monotonic_ns=1_000_000 * i,
                flags=("id_mismatch",) if i % 7 == 0 else (),
                details={"n": i},
            )
        )
    return out


def make_tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A private CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "QR Checkpoint test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


# --- the imitation server ---------------------------------------------------------------------------------------


class ImitationServer:
    """A protocol-v1 server on 127.0.0.1 with its events in a real SQLite file (`db_path`)."""

    def __init__(
        self, db_path: Path, token: str = TOKEN, enroll_code: str = "ABCD1234", tls: tuple[Path, Path] | None = None
    ) -> None:
        self.db_path = db_path
        self.token = token
        self.enroll_code = enroll_code
        self.issued_token = "issued-" + token
        self.refuse_uuids: set[str] = set()
        self.silent_uuids: set[str] = set()  # stored, but left out of the answer (a buggy server)
        self.answer_spelling: Callable[[str], str] = str  # e.g. str.upper: how the answer spells each uuid
        self.server_clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.documents: dict[str, Any] = {
            protocol.CONFIG_PATH: {"venue_id": "1", "venue_name": "Chợ Bến Thành", "kiosk_id": "7", "mode": "auto"},
            protocol.KEYS_PATH: {"keys": []},
            protocol.REVOCATIONS_PATH: {"revocations": []},
            protocol.TRUST_LIST_PATH: {"certificates": []},
        }
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._lock = threading.Lock()
        with self._connect() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS events (uuid TEXT PRIMARY KEY, body TEXT NOT NULL,"
                " arrivals INTEGER NOT NULL)"
            )
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        scheme = "http"
        if tls is not None:  # HTTPS with the given certificate chain and key files
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ImitationServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path, timeout=30)
        return conn

    # what the tests check
    def stored_uuids(self) -> list[str]:
        with self._connect() as conn:
            return [row[0] for row in conn.execute("SELECT uuid FROM events")]

    def arrivals(self) -> dict[str, int]:
        with self._connect() as conn:
            return dict(conn.execute("SELECT uuid, arrivals FROM events"))

    def stored_bodies(self) -> dict[str, dict[str, Any]]:
        with self._connect() as conn:
            return {uuid: json.loads(body) for uuid, body in conn.execute("SELECT uuid, body FROM events")}

    def ingest(self, body: bytes) -> protocol.BatchResult:
        batch = protocol.decode_batch(body)
        results = []
        with self._lock, self._connect() as conn:
            for event in batch.events:
                if event.uuid in self.refuse_uuids:
                    results.append(protocol.EventResult(event.uuid, "refused", "test refusal"))
                    continue
                cur = conn.execute("UPDATE events SET arrivals = arrivals + 1 WHERE uuid = ?", (event.uuid,))
                if cur.rowcount:
                    results.append(protocol.EventResult(event.uuid, "duplicate"))
                else:
                    conn.execute(
                        "INSERT INTO events VALUES (?, ?, 1)",
                        (event.uuid, json.dumps(protocol.event_to_json(event), ensure_ascii=False)),
                    )
                    results.append(protocol.EventResult(event.uuid, "stored"))
        results = [
            protocol.EventResult(self.answer_spelling(result.uuid), result.status, result.reason)
            for result in results
            if result.uuid not in self.silent_uuids
        ]
        return protocol.BatchResult(server_time=self.server_clock(), results=tuple(results))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, document: Any = None, headers: dict[str, str] | None = None) -> None:
                body = b"" if document is None else json.dumps(document, ensure_ascii=False).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if document is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                server.requests.append((self.command, self.path, status))

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {server.token}":
                    return True
                self._send(401, {"detail": "missing or invalid token"})
                return False

            def do_GET(self) -> None:
                if self.path == protocol.TIME_PATH:
                    return self._send(200, {"server_time": protocol.format_time(server.server_clock())})
                if self.path not in server.documents:
                    return self._send(404, {"detail": "not found"})
                if not self._authorised():
                    return None
                document = server.documents[self.path]
                etag = '"' + hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return self._send(304, None, {"ETag": etag})
                return self._send(200, document, {"ETag": etag})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == protocol.ENROLL_PATH:
                    code = json.loads(raw).get("code")
                    if code != server.enroll_code:
                        return self._send(401, {"detail": "unknown, used or expired enrolment code"})
                    server.enroll_code = "USED"
                    answer = protocol_pull.EnrollResponse(server.issued_token, "7", "1", server.server_clock())
                    return self._send(200, answer.to_json())
                if self.path != protocol.EVENTS_PATH:
                    return self._send(404, {"detail": "not found"})
                if not self._authorised():
                    return None
                try:
                    if self.headers.get("Content-Encoding") == "gzip":
                        raw = protocol.gunzip_limited(raw)
                    result = server.ingest(raw)
                except protocol.PayloadTooLarge as exc:
                    return self._send(413, {"detail": str(exc)})
                except protocol.ProtocolError as exc:
                    return self._send(422, {"detail": str(exc)})
                return self._send(200, result.to_json())

        return Handler


# --- the fault-injecting proxy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """What the proxy does to one request. kinds:
    "status" (answer `status` without forwarding, after `seconds`), "status_after" (forward, then answer `status` instead),
    "retry_after" (answer `status` 429/503 with `retry_after` header, without forwarding),
    "hang" (forward, then wait `seconds` before answering), "slow" (forward, answer after `seconds`, trickled),
    "cut" (forward, then send the headers and half the body and close), "reset" (close before forwarding),
    "before" (call `action` before forwarding, e.g. kill the server), "during" (forward while `action` runs)."""

    kind: str
    status: int = 500
    seconds: float = 0.0
    retry_after: str | None = None
    action: Callable[[], None] | None = None


@dataclass
class ProxyLogEntry:
    at: float  # time.monotonic()
    method: str
    path: str
    fault: str
    status: int | None


class FaultProxy:
    """An HTTP proxy on 127.0.0.1 in front of `upstream`, applying queued faults to matching requests."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.faults: deque[tuple[str, Fault]] = deque()
        self.log: list[ProxyLogEntry] = []
        self.delay_s = 0.0  # added to every forwarded request (a slow link)
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, fault: Fault, path: str = protocol.EVENTS_PATH, times: int = 1) -> None:
        with self._lock:
            self.faults.extend((path, fault) for _ in range(times))

    def _next_fault(self, path: str) -> Fault | None:
        with self._lock:
            if self.faults and path.startswith(self.faults[0][0]):
                return self.faults.popleft()[1]
        return None

    def entries(self, path: str = protocol.EVENTS_PATH) -> list[ProxyLogEntry]:
        return [entry for entry in list(self.log) if entry.path == path]

    def forward(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, list, bytes]:
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self
        hop_by_hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _record(self, fault: str, status: int | None) -> None:
                proxy.log.append(ProxyLogEntry(time.monotonic(), self.command, self.path, fault, status))

            def _answer(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in hop_by_hop:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop_by_hop}
                fault = proxy._next_fault(self.path)
                kind = fault.kind if fault else "pass"
                if fault and fault.kind == "reset":
                    self._record(kind, None)
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault and fault.kind in ("status", "retry_after"):
                    extra = [("Retry-After", fault.retry_after)] if fault.retry_after is not None else []
                    self._record(kind, fault.status)
                    time.sleep(fault.seconds)  # a slow failure: lets a test have more on the wire meanwhile
                    return self._answer(
                        fault.status,
                        [("Content-Type", "application/json"), *extra],
                        json.dumps({"detail": "injected fault"}).encode(),
                    )
                if fault and fault.kind == "before" and fault.action:
                    fault.action()
                runner = None
                if fault and fault.kind == "during" and fault.action:
                    runner = threading.Thread(target=fault.action, daemon=True)
                    runner.start()
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                try:
                    status, up_headers, up_body = proxy.forward(self.command, self.path, headers, body)
                except OSError:
                    self._record(kind, 502)
                    return self._answer(502, [("Content-Type", "application/json")], b'{"detail":"bad gateway"}')
                finally:
                    if runner:
                        runner.join()
                if fault and fault.kind == "status_after":
                    self._record(kind, fault.status)
                    time.sleep(fault.seconds)  # a slow failure: lets a test have more on the wire meanwhile
                    return self._answer(fault.status, [("Content-Type", "application/json")], b'{"detail":"x"}')
                if fault and fault.kind == "hang":
                    time.sleep(fault.seconds)
                    self._record(kind, None)
                    self.close_connection = True
                    return
                if fault and fault.kind == "cut":
                    self._record(kind, None)
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(up_body)))
                    self.end_headers()
                    self.wfile.write(up_body[: len(up_body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault and fault.kind == "slow":
                    self._record(kind, status)
                    self.send_response(status)
                    for name, value in up_headers:
                        if name.lower() not in hop_by_hop:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(up_body)))
                    self.end_headers()
                    step = max(1, len(up_body) // 10)
                    for i in range(0, len(up_body), step):  # trickle: each read gap stays under the read timeout
                        time.sleep(fault.seconds / 10)
                        self.wfile.write(up_body[i : i + step])
                        self.wfile.flush()
                    return
                self._record(kind, status)
                self._answer(status, up_headers, up_body)

            def _handle_quietly(self) -> None:
                try:
                    self._handle()
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the kiosk went away (killed, timed out): nothing to answer

            do_GET = _handle_quietly
            do_POST = _handle_quietly

        return Handler


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env
