"""Pages not built yet: each answers with a page that says so (the navigation never leads to a 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from server.console.accounts import ConsoleUser
from server.console.web import render, require_console_user

router = APIRouter(include_in_schema=False)


@router.get("/console/trace", response_class=HTMLResponse)
def trace_page(
    request: Request, _user: Annotated[ConsoleUser, Depends(require_console_user("authority"))]
) -> HTMLResponse:
    return render(request, "placeholder.html", heading="Trace")


@router.get("/console/persons", response_class=HTMLResponse)
def persons_page(
    request: Request, _user: Annotated[ConsoleUser, Depends(require_console_user("authority", "admin"))]
) -> HTMLResponse:
    return render(request, "placeholder.html", heading="Persons")


@router.get("/console/audit", response_class=HTMLResponse)
def audit_page(request: Request, _user: Annotated[ConsoleUser, Depends(require_console_user("admin"))]) -> HTMLResponse:
    return render(request, "placeholder.html", heading="Audit")


@router.get("/console/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, _user: Annotated[ConsoleUser, Depends(require_console_user())]) -> HTMLResponse:
    return render(request, "placeholder.html", heading="API tokens")
