"""What every console page uses: the logged-in user (`require_console_user`), CSRF-checked forms, rendering.

@router.get("/console/x")
def page(request: Request, user: Annotated[ConsoleUser, Depends(require_console_user("admin"))]):
    return render(request, "x.html", rows=...)

@router.post("/console/x")
def change(request: Request, user: ..., form: CheckedForm):  # 403 unless the form's csrf_token is right
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from server.console import i18n
from server.console.accounts import ConsoleUser
from server.console.sessions import ConsoleSession, SessionLimits, load_session
from server.routes.deps import EngineDep, get_settings

SESSION_COOKIE = "qrck_session"
MAX_FORM_BYTES = 64 * 1024
TEMPLATES = Path(__file__).with_name("templates")
STATIC_PATH = "/console/static"
# Nothing but this server: no CDN, no inline script, no framing. Pages with personal data are not cached.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavEntry:
    path: str
    text_key: str
    roles: tuple[str, ...]


NAV = (
    NavEntry("/console/trace", "nav.trace", ("authority",)),
    NavEntry("/console/persons", "nav.persons", ("authority", "admin")),
    NavEntry("/console/venues", "nav.venues", ("manager", "admin")),
    NavEntry("/console/fleet", "nav.fleet", ("admin",)),
    NavEntry("/console/audit", "nav.audit", ("admin",)),
    NavEntry("/console/tokens", "nav.tokens", ("authority", "manager", "admin")),
)


class LoginRequired(Exception):
    """No live session: the page answers with a redirect to the login form (see server.console.install)."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class ConsoleForbidden(Exception):
    """Logged in, but this page is not for this role or venue: an HTML 403 page."""


class StaleForm(Exception):
    """A POST without this session's CSRF token (forged, or a form from before a new login): an HTML 403 page."""


def home_path(user: ConsoleUser) -> str:
    return next(entry.path for entry in NAV if user.role in entry.roles)


def session_limits(request: Request) -> SessionLimits:
    settings = get_settings(request)
    return SessionLimits(
        idle=timedelta(minutes=settings.console_idle_minutes), absolute=timedelta(hours=settings.console_session_hours)
    )


def now_utc(request: Request) -> datetime:
    return get_settings(request).clock().astimezone(UTC)


def current_session(request: Request, engine: EngineDep) -> ConsoleSession | None:
    """The request's live session (from its cookie), or None. Cached per request by FastAPI."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    if not session_id:
        return None
    with engine.begin() as conn:
        session = load_session(conn, session_id, now_utc(request), session_limits(request))
    request.state.console_session = session
    return session


SessionDep = Annotated[ConsoleSession | None, Depends(current_session)]


def require_console_user(*roles: str) -> Callable[..., ConsoleUser]:
    """A dependency: the logged-in user, if their role is one of `roles` (any role when none is given).
    No session: a redirect to the login page; another role: a 403 page."""

    def check(request: Request, session: SessionDep) -> ConsoleUser:
        if session is None:
            raise LoginRequired(request.url.path)
        if roles and session.user.role not in roles:
            raise ConsoleForbidden()
        return session.user

    return check


ConsoleUserDep = Annotated[ConsoleUser, Depends(require_console_user())]


def is_https(request: Request) -> bool:
    """Was the request made over https, to us or (X-Forwarded-Proto) to a trusted proxy in front of us?"""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded != "https":
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in get_settings(request).trusted_proxies)


async def read_form(request: Request) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as {name: first value}; 413 beyond MAX_FORM_BYTES."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="form too large")
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


def csrf_matches(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


async def checked_form(request: Request, session: SessionDep) -> dict[str, str]:
    """A dependency for every console POST: the form, once its `csrf_token` matched the session's (else 403)."""
    if session is None:
        raise LoginRequired("/")
    form = await read_form(request)
    if not csrf_matches(session.csrf_token, form.get("csrf_token", "")):
        raise StaleForm()
    return form


CheckedForm = Annotated[dict[str, str], Depends(checked_form)]


def request_language(request: Request) -> str:
    return i18n.language(request.query_params.get("lang") or request.cookies.get(i18n.LANG_COOKIE))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True))
    env.globals["static"] = lambda name: f"{STATIC_PATH}/{name}"
    return env


_ENV = _environment()


def local_time(moment: datetime | None, zone: Any, with_offset: bool = False) -> str:
    """A UTC time as the server's people read it: "2026-12-02 14:05" (or "2026-12-02 14:05:09+07:00")."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    return local.isoformat(sep=" ", timespec="seconds") if with_offset else local.strftime("%Y-%m-%d %H:%M")


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A console page: `template` with the user, the CSRF token, the language and helpers in its context."""
    lang = request_language(request)
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    user = session.user if session else None
    zone = get_settings(request).zone
    values = {
        "lang": lang,
        "t": lambda key: i18n.text(lang, key),
        "tr": lambda vi, en: vi if lang == "vi" else en,
        "user": user,
        "csrf_token": session.csrf_token if session else "",
        "nav": [entry for entry in NAV if user and user.role in entry.roles],
        "path": request.url.path,
        "lang_switch": f"/console/lang?to={'en' if lang == 'vi' else 'vi'}&next={quote(_here(request))}",
        "when": lambda moment, offset=False: local_time(moment, zone, offset),
        "zone_name": get_settings(request).timezone,
        **context,
    }
    html = _ENV.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)


def _here(request: Request) -> str:
    query = "&".join(f"{k}={quote(v)}" for k, v in request.query_params.items() if k != "lang")
    return request.url.path + (f"?{query}" if query else "")


def safe_next(path: str | None) -> str | None:
    """A redirect target from a form or query: a path on this server only (no //host, no scheme)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or len(path) > 2000:
        return None
    return path
