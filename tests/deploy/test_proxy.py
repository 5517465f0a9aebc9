"""The server behind nginx terminating TLS, with docs/deploy/nginx.conf itself: a real nginx on 127.0.0.1, a real
`kiosk-server serve` behind it, and a kiosk that trusts only the proxy's CA (`kiosk enroll --ca-file`).

The CA and certificates are made here with `cryptography`; only the listen addresses, the upstream port and the
certificate paths of the sample are substituted."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from kiosk.demo import demo_people
from tests.support import required
from tests.support.media import write_video
from tests.support.paths import REPO_ROOT
from tests.support.postgres import LiveServer, free_port
from tests.support.required import unavailable
from tests.support.sync_servers import make_tls_files

pytestmark = pytest.mark.slow
SAMPLE = REPO_ROOT / "docs" / "deploy" / "nginx.conf"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        unavailable(required.DEPLOY_TOOLS, "nginx is not installed (scripts/setup.sh --test: nginx-light)")
    return found


def render(sample: str, upstream: int, https: int, plain: int, cert: Path, key: Path) -> str:
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{plain};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "/etc/ssl/qr-checkpoint/server.pem": str(cert),
        "/etc/ssl/qr-checkpoint/server.key": str(key),
    }
    for old, new in replacements.items():
        assert old in sample, f"docs/deploy/nginx.conf no longer has {old!r}: update this test with it"
        sample = sample.replace(old, new)
    return sample


@pytest.fixture
def proxy(tmp_path: Path, live_server: Callable[..., LiveServer]) -> Iterator[tuple[str, Path, LiveServer]]:
    """(https URL of nginx, the CA file kiosks trust, the server behind it)."""
    binary = nginx_binary()
    server = live_server()
    tls = tmp_path / "tls"
    tls.mkdir()
    ca, cert, key = make_tls_files(tls)
    https, plain = free_port(), free_port()
    site = tmp_path / "site.conf"
    site.write_text(render(SAMPLE.read_text(), server.port, https, plain, cert, key))
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"daemon off;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'} warn;\n"
        "events { worker_connections 64; }\n"
        f"http {{\n  access_log {tmp_path / 'access.log'};\n"
        + "".join(f"  {name}_temp_path {path};\n" for name, path in temp.items()).replace(
            "body_temp", "client_body_temp"
        )
        + f"  include {site};\n}}\n"
    )
    check = subprocess.run([binary, "-t", "-c", str(main), "-e", str(tmp_path / "error.log")], capture_output=True)
    assert check.returncode == 0, check.stderr.decode()
    process = subprocess.Popen([binary, "-c", str(main), "-e", str(tmp_path / "error.log")], stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{https}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if (
                httpx.get(
                    f"{url}/api/v1/time", verify=ssl.create_default_context(cafile=str(ca)), timeout=1
                ).status_code
                == 200
            ):
                break
        except httpx.HTTPError:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            assert time.monotonic() < deadline, "nginx did not answer in time"
            time.sleep(0.1)
    try:
        yield url, ca, server
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert "[emerg]" not in (tmp_path / "error.log").read_text()


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=120)


def test_a_kiosk_enrols_and_syncs_through_nginx_trusting_only_its_ca(proxy, tmp_path: Path) -> None:  # noqa: ANN001
    url, ca, server = proxy
    venue = server.add_venue("Chợ Bến Thành")
    config, db = tmp_path / "kiosk.toml", tmp_path / "events.sqlite3"
    local = ["--config", str(config), "--db", str(db)]
    enrolled = kiosk("enroll", "--server", url, "--code", server.add_kiosk(venue), "--ca-file", str(ca), *local)
    assert enrolled.returncode == 0, enrolled.stderr
    video = write_video(tmp_path / "v.avi", [(None, 0.5), (demo_people(1, seed=5)[0].payload, 1.5), (None, 1.0)])
    assert kiosk("scan", "--source", str(video), *local).returncode == 0
    synced = kiosk("sync", "--once", *local)
    assert synced.returncode == 0, synced.stderr
    assert len(server.stored_uuids(venue)) == 1
    # plain HTTP on the proxy only redirects to HTTPS
    plain = httpx.get(url.replace("https", "http").rsplit(":", 1)[0] + ":" + _plain_port(tmp_path), timeout=5)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")


def _plain_port(tmp_path: Path) -> str:
    site = (tmp_path / "site.conf").read_text()
    return site.split("listen 127.0.0.1:", 1)[1].split(";", 1)[0]


def test_a_certificate_from_another_ca_is_refused(proxy, tmp_path: Path) -> None:  # noqa: ANN001
    url, ca, server = proxy
    venue = server.add_venue()
    other = tmp_path / "other"
    other.mkdir()
    other_ca = make_tls_files(other)[0]
    config = tmp_path / "kiosk.toml"
    code = server.add_kiosk(venue)
    refused = kiosk("enroll", "--server", url, "--code", code, "--ca-file", str(other_ca), "--config", str(config))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "certif" in refused.stderr.lower() or "tls" in refused.stderr.lower(), refused.stderr
    # enrolled with the right CA, then pointed at another CA's trust: every sync is refused, nothing is sent
    assert (
        kiosk("enroll", "--server", url, "--code", code, "--ca-file", str(ca), "--config", str(config)).returncode == 0
    )
    config.write_text(config.read_text().replace(str(ca), str(other_ca)))
    assert str(other_ca) in config.read_text()
    db = tmp_path / "events.sqlite3"
    video = write_video(tmp_path / "v.avi", [(None, 0.5), (demo_people(1, seed=6)[0].payload, 1.5), (None, 1.0)])
    assert kiosk("scan", "--source", str(video), "--config", str(config), "--db", str(db)).returncode == 0
    synced = kiosk("sync", "--once", "--config", str(config), "--db", str(db))
    assert synced.returncode == 1 and "Traceback" not in synced.stderr, synced.stderr
    assert server.stored_uuids(venue) == []
