"""Login at `/`, logout, the language switch, and `install(app)`, which adds the whole console to the app."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from server.console import i18n, login_budget
from server.console.accounts import MAX_USERNAME_LENGTH, ConsoleUser, authenticate
from server.console.sessions import end_session, start_session
from server.console.web import (
    SESSION_COOKIE,
    STATIC_PATH,
    CheckedForm,
    ConsoleForbidden,
    ConsoleUserDep,
    LoginRequired,
    SessionDep,
    StaleForm,
    csrf_matches,
    home_path,
    is_https,
    now_utc,
    read_form,
    render,
    safe_next,
    session_limits,
)
from server.routes.deps import EngineDep, client_key, get_settings
from server.settings import ServerSettings

LOGIN_COOKIE = "qrck_login"  # the login form's CSRF token (double submit: there is no session yet)

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, token: str, error: str = "", status_code: int = 200, **extra: str) -> Response:
    next_path = safe_next(request.query_params.get("next")) or ""
    response = render(request, "login.html", status_code, login_token=token, error=error, next_path=next_path, **extra)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request))
    return response


@router.get("/", response_class=HTMLResponse)
def login_form(request: Request, session: SessionDep) -> Response:
    if session is not None:
        return RedirectResponse(home_path(session.user), status_code=303)
    return _login_page(request, request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24))


def _throttled(engine: EngineDep, user_key: str, client: str, settings: ServerSettings, now: datetime) -> int:
    with engine.connect() as conn:
        per_user, per_client = settings.login_failures_per_user, settings.login_failures_per_client
        return login_budget.seconds_to_wait(conn, user_key, client, now, per_user, per_client)


def _charge(engine: EngineDep, user_key: str, client: str, now: datetime) -> None:
    with engine.begin() as conn:
        login_budget.record_failure(conn, user_key, client, now)


@router.post("/", response_class=HTMLResponse)
async def login(request: Request, engine: EngineDep) -> Response:
    form = await read_form(request)
    token = request.cookies.get(LOGIN_COOKIE, "")
    fresh = secrets.token_urlsafe(24)
    if not csrf_matches(token, form.get("csrf_token", "")):
        return _login_page(request, fresh, "form_expired", 403)
    username, password = form.get("username", ""), form.get("password", "")
    user_key, client, now = username.strip().casefold()[:MAX_USERNAME_LENGTH], client_key(request), now_utc(request)
    wait = await run_in_threadpool(_throttled, engine, user_key, client, get_settings(request), now)
    if wait:
        response = _login_page(request, token, "throttled", 429, wait=str(wait))
        response.headers["Retry-After"] = str(wait)
        return response
    user = await run_in_threadpool(_authenticate, engine, username, password)
    if user is None:
        await run_in_threadpool(_charge, engine, user_key, client, now)
        return _login_page(request, token, "wrong_password", 401, username=username)
    session_id = await run_in_threadpool(_new_session, engine, request, user)
    target = safe_next(form.get("next")) or home_path(user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=is_https(request))
    response.delete_cookie(LOGIN_COOKIE)
    return response


def _authenticate(engine: EngineDep, username: str, password: str) -> ConsoleUser | None:
    with engine.connect() as conn:
        return authenticate(conn, username, password)


def _new_session(engine: EngineDep, request: Request, user: ConsoleUser) -> str:
    """A new session id for every login; the one the browser came with (if any) ends: no fixation."""
    with engine.begin() as conn:
        end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
        return start_session(conn, user, now_utc(request), session_limits(request))


@router.post("/console/logout")
def logout(request: Request, engine: EngineDep, _form: CheckedForm) -> Response:
    with engine.begin() as conn:
        end_session(conn, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/console")
def console_home(user: ConsoleUserDep) -> Response:
    return RedirectResponse(home_path(user), status_code=303)


@router.get("/console/lang")
def switch_language(to: str = "vi", next: str = "/") -> Response:  # noqa: A002 - the query parameter's name
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    response.set_cookie(i18n.LANG_COOKIE, i18n.language(to), max_age=365 * 24 * 3600, samesite="strict")
    return response


def install(app: FastAPI, routers: tuple[APIRouter, ...] | None = None) -> None:
    """The console on `app`: login and logout, its pages (`routers`, default: pages.PAGE_ROUTERS), static files
    and error pages."""
    from server.console.pages import PAGE_ROUTERS

    app.include_router(router)
    for page_router in PAGE_ROUTERS if routers is None else routers:
        app.include_router(page_router)
    app.mount(STATIC_PATH, StaticFiles(directory=Path(__file__).with_name("static")), name="console-static")

    @app.exception_handler(LoginRequired)
    async def to_login(_request: Request, exc: LoginRequired) -> Response:
        target = "/" if exc.next_path in ("", "/") else f"/?next={quote(exc.next_path)}"
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ConsoleForbidden)
    async def forbidden(request: Request, _exc: ConsoleForbidden) -> Response:
        return render(request, "forbidden.html", 403)

    @app.exception_handler(StaleForm)
    async def stale(request: Request, _exc: StaleForm) -> Response:
        return render(request, "forbidden.html", 403, stale=True)
