"""`kiosk install-service` / `kiosk uninstall-service`: the station as a systemd service that boots to the window.

The service starts Debian's `cage` Wayland kiosk compositor on a virtual terminal with the station as its only
client, full screen: no desktop, no window manager, nothing else a visitor could reach. cage ends when the station
ends, so `Restart=always` restarts the pair after a crash; `Type=notify` with `WatchdogSec=` restarts a station
whose GUI loop hangs (the pings come from Qt's loop: ui.runtime.sdnotify). Output goes to the journal, rate
limited per unit, and a journald drop-in bounds the journal's size on disk.

It lives in ui/ (not scripts/) because the service runs the station window and the command must know where this
installation's `kiosk` is (next to the running Python), which a shell script would have to guess.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kiosk.commands.common import CommandError, Subcommands

SERVICE = "qr-checkpoint-station.service"
UNIT_FILE = Path("etc/systemd/system") / SERVICE
PAM_FILE = Path("etc/pam.d/qr-checkpoint-station")
JOURNALD_FILE = Path("etc/systemd/journald.conf.d/qr-checkpoint.conf")
DEFAULT_USER = "kiosk"
DEFAULT_HOME = "/var/lib/qr-checkpoint"  # the service user's home: its config and event database live below it
GROUPS = ("video", "render", "input", "audio")  # the camera, the GPU, the touch screen and scanner, the beep
WATCHDOG_SECONDS = 60
MAX_JOURNAL = "200M"


@dataclass(frozen=True)
class ServiceFile:
    path: Path  # relative to the root
    text: str
    mode: int


def register_commands(subparsers: Subcommands) -> None:
    install = subparsers.add_parser("install-service", help="start the station full screen at boot (systemd, root)")
    install.add_argument("--user", default=DEFAULT_USER, help=f"account the station runs as (default: {DEFAULT_USER})")
    install.add_argument("--config", metavar="PATH", help="station configuration (default: that user's own)")
    install.add_argument("--tty", default="tty7", help="virtual terminal for the station's screen (default: tty7)")
    install.add_argument("--now", action="store_true", help="also start it now, not only at the next boot")
    _common_options(install)
    install.set_defaults(func=run_install)
    uninstall = subparsers.add_parser("uninstall-service", help="remove the boot service (keeps data and config)")
    _common_options(uninstall)
    uninstall.set_defaults(func=run_uninstall)


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", metavar="DIR", default="/", help="install below DIR, without touching systemd")
    parser.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")


def kiosk_executable() -> Path:
    """This installation's `kiosk`: next to the running interpreter (a venv's bin/), else the one on PATH."""
    beside = Path(sys.executable).with_name("kiosk")
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("kiosk")
    if found is None:
        raise CommandError("cannot find the `kiosk` executable of this installation")
    return Path(found).absolute()


def systemd_quote(word: str) -> str:
    """One word of an ExecStart= line: systemd expands % and $, and splits on whitespace unless quoted."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"' if any(c.isspace() for c in word) or escaped != word or not word else word


def station_command(kiosk: Path, config: str | None) -> list[str]:
    """The command cage runs: the station, full screen (kiosk mode is the config's; no --windowed here)."""
    return [str(kiosk), "station", *(["--config", str(Path(config).absolute())] if config else [])]


def unit_text(user: str, tty: str, command: list[str]) -> str:
    cage = shutil.which("cage") or "/usr/bin/cage"
    exec_start = " ".join(systemd_quote(word) for word in [cage, "-d", "--", *command])
    return f"""# Installed by `kiosk install-service`; removed by `kiosk uninstall-service`.
[Unit]
Description=QR Checkpoint station (full screen in the cage kiosk compositor on {tty})
After=systemd-user-sessions.service plymouth-quit-wait.service dbus.socket systemd-logind.service getty@{tty}.service
Wants=dbus.socket systemd-logind.service
Conflicts=getty@{tty}.service
ConditionPathExists=/dev/tty0
# A station that keeps crashing is retried forever, never given up on: the door must not stay closed.
StartLimitIntervalSec=0

[Service]
# NotifyAccess=all: the service's main process is cage; READY=1 and the watchdog pings come from its child.
Type=notify
NotifyAccess=all
WatchdogSec={WATCHDOG_SECONDS}
TimeoutStartSec=120
Restart=always
RestartSec=3
User={user}
PAMName=qr-checkpoint-station
UtmpIdentifier={tty}
UtmpMode=user
TTYPath=/dev/{tty}
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
LogRateLimitIntervalSec=30s
LogRateLimitBurst=1000
Environment=QT_QPA_PLATFORM=wayland XDG_SESSION_TYPE=wayland QT_WAYLAND_DISABLE_WINDOWDECORATION=1
ExecStart={exec_start}

[Install]
WantedBy=multi-user.target
"""


PAM_TEXT = """# Installed by `kiosk install-service`: the station's session (pam_systemd gives it a seat and XDG_RUNTIME_DIR).
auth     required pam_unix.so nullok
account  required pam_unix.so
session  required pam_unix.so
session  required pam_systemd.so
"""

JOURNALD_TEXT = f"""# Installed by `kiosk install-service`: a kiosk left alone for weeks must not fill its disk with logs.
[Journal]
SystemMaxUse={MAX_JOURNAL}
SystemMaxFileSize=20M
MaxRetentionSec=60day
RateLimitIntervalSec=30s
RateLimitBurst=10000
"""


def service_files(user: str, config: str | None, tty: str, kiosk: Path) -> list[ServiceFile]:
    return [
        ServiceFile(UNIT_FILE, unit_text(user, tty, station_command(kiosk, config)), 0o644),
        ServiceFile(PAM_FILE, PAM_TEXT, 0o644),
        ServiceFile(JOURNALD_FILE, JOURNALD_TEXT, 0o644),
    ]


def run_install(args: argparse.Namespace) -> int:
    if not args.user or args.user.startswith("-") or any(c.isspace() for c in args.user):
        raise CommandError(f"not a user name: {args.user!r}")
    files = service_files(args.user, args.config, args.tty, kiosk_executable())
    root = Path(args.root)
    live = root.resolve() == Path("/")
    actions = _install_actions(args.user, args.now) if live else []
    if args.dry_run:
        _print_plan(root, files, actions)
        return 0
    if live and os.geteuid() != 0:
        raise CommandError("installing a system service needs root: run it with sudo")
    if live:
        _ensure_user(args.user)
    for item in files:
        target = root / item.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8")
        target.chmod(item.mode)
        print(f"wrote {target}")
    for action in actions:
        _run(action)
    if not live:
        print(f"files written below {root}; systemd not touched (enable with: systemctl enable {SERVICE})")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    root = Path(args.root)
    live = root.resolve() == Path("/")
    targets = [root / path for path in (UNIT_FILE, PAM_FILE, JOURNALD_FILE)]
    if args.dry_run:
        if live:
            print(f"would run: systemctl disable --now {SERVICE}")
        for target in targets:
            print(f"would remove {target}" + ("" if target.exists() else " (not there)"))
        return 0
    if live and os.geteuid() != 0:
        raise CommandError("removing a system service needs root: run it with sudo")
    if live:
        _run(["systemctl", "disable", "--now", SERVICE], check=False)
    for target in targets:
        if target.exists():
            target.unlink()
            print(f"removed {target}")
    if live:
        _run(["systemctl", "daemon-reload"])
        _run(["systemctl", "restart", "systemd-journald.service"], check=False)
    print("the station's user, configuration and event database are kept")
    return 0


def _install_actions(user: str, now: bool) -> list[list[str]]:
    return [
        ["systemctl", "daemon-reload"],
        ["systemctl", "restart", "systemd-journald.service"],  # journald reads its drop-ins only at start
        ["systemctl", "enable", *(["--now"] if now else []), SERVICE],
    ]


def _ensure_user(user: str) -> None:
    """A system account for the station, created once; it keeps its home (config, events) across reinstalls."""
    if subprocess.run(["id", "-u", user], capture_output=True).returncode == 0:
        return
    groups = [g for g in GROUPS if subprocess.run(["getent", "group", g], capture_output=True).returncode == 0]
    command = ["useradd", "--system", "--create-home", "--home-dir", DEFAULT_HOME, "--shell", "/usr/sbin/nologin"]
    _run([*command, *(["--groups", ",".join(groups)] if groups else []), user])


def _print_plan(root: Path, files: list[ServiceFile], actions: list[list[str]]) -> None:
    for item in files:
        print(f"would write {root / item.path} (mode {item.mode:o}):")
        print("".join(f"    {line}\n" for line in item.text.splitlines()), end="")
    for action in actions:
        print("would run: " + " ".join(action))


def _run(command: list[str], *, check: bool = True) -> None:
    print("running: " + " ".join(command))
    result = subprocess.run(command)
    if check and result.returncode != 0:
        raise CommandError(f"{' '.join(command)} failed with exit code {result.returncode}")
