"""The public health declaration: a mobile web page (GET/POST /declare) and the same as JSON API.

No token: anyone may declare. What it returns is a personal QR signed by the server's active key.
"""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from server import admin
from server.card import qr_png
from server.declarations import PersonInput, declare
from server.keys import NoSigningKey
from server.routes.deps import EngineDep, client_key, too_many
from server.web.pages import form_page, language, result_page

MAX_FORM_BYTES = 16 * 1024


def rate_limited(request: Request) -> None:
    """The public endpoints: a token bucket per client address (ServerSettings.declarations_per_minute)."""
    bucket = getattr(request.app.state, "declaration_bucket", None)
    if bucket is None:
        return
    wait = bucket.take(client_key(request))
    if wait:
        raise too_many(wait, "declarations")


router = APIRouter(tags=["declaration"])


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise admin.Invalid("date of birth: use YYYY-MM-DD") from None


@router.get("/declare", response_class=HTMLResponse, summary="The health declaration page")
def get_declare(lang: str | None = None) -> HTMLResponse:
    return HTMLResponse(form_page(language(lang)))


@router.post(
    "/declare",
    response_class=HTMLResponse,
    summary="Submit the declaration form; shows the QR",
    dependencies=[Depends(rate_limited)],
)
async def post_declare(request: Request, engine: EngineDep, lang: str | None = None) -> HTMLResponse:
    lang = language(lang)
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="form too large")
    values = {key: items[0] for key, items in parse_qs(body.decode("utf-8", "replace")).items()}
    try:
        if values.get("pledge") != "yes":
            raise admin.Invalid("confirm that the information is true" if lang == "en" else "chưa xác nhận cam kết")
        person = PersonInput(
            values.get("full_name", ""),
            values.get("id_number", ""),
            _date(values.get("date_of_birth", "")),
            values.get("phone", ""),
        )
        issued = await run_in_threadpool(declare, engine, person, values)
    except admin.Invalid as exc:
        return HTMLResponse(form_page(lang, str(exc), values), status_code=422)
    except NoSigningKey:
        return HTMLResponse(form_page(lang, "server has no signing key", values), status_code=503)
    return HTMLResponse(result_page(lang, issued, await run_in_threadpool(qr_png, issued.qr)))


class DeclarationBody(BaseModel):
    full_name: str = Field(min_length=1, max_length=100)
    id_number: str = Field(default="", max_length=12)
    date_of_birth: date | None = None
    phone: str = Field(default="", max_length=20)
    answers: dict[str, bool]


@router.post(
    "/api/v1/declarations",
    status_code=201,
    summary="Declare; returns the personal QR (text and PNG)",
    dependencies=[Depends(rate_limited)],
)
def post_declaration(body: DeclarationBody, engine: EngineDep) -> JSONResponse:
    person = PersonInput(body.full_name, body.id_number, body.date_of_birth, body.phone)
    try:
        issued = declare(engine, person, body.answers)
    except admin.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except NoSigningKey as exc:
        raise HTTPException(status_code=503, detail=str(exc)) from None
    payload: dict[str, Any] = {
        "person_id": issued.person_id,
        "full_name": issued.full_name,
        "qr": issued.qr,
        "declared_at": issued.declared_at.isoformat() if issued.declared_at else None,
        "expires_at": issued.expires_at.isoformat(),
        "symptoms": issued.symptoms,
        "png_base64": base64.b64encode(qr_png(issued.qr)).decode(),
    }
    return JSONResponse(payload, status_code=201)
