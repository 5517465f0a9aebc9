"""What venue managers (and the health authority) call: safety level, station settings, summary, export."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.csvsafe import iter_safe_csv
from kiosk.vocabulary import CapacityAction, QuestionnairePolicy, SafetyLevel, StationMode
from server import admin
from server.console.audit import audit_venue_export
from server.routes.deps import EngineDep, PrincipalDep, ReadEngineDep
from sync.protocol import API_PREFIX

router = APIRouter(prefix=f"{API_PREFIX}/venues", tags=["venues"])
VenueId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _check(allowed: bool) -> None:
    if not allowed:
        raise HTTPException(status_code=403, detail="not allowed for this venue")


def _existing(engine: Any, venue_id: int) -> None:
    with engine.connect() as conn:
        try:
            admin.venue_row(conn, venue_id)
        except admin.NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None


class SafetyBody(BaseModel):
    level: SafetyLevel
    assessed_on: date


@router.put("/{venue_id}/safety", summary="Set the venue's self-assessed COVID safety level (venue manager)")
def put_safety(venue_id: VenueId, body: SafetyBody, principal: PrincipalDep, engine: EngineDep) -> dict[str, Any]:
    _check(principal.may_manage(venue_id))
    if not date(2020, 1, 1) <= body.assessed_on <= date(2100, 1, 1):
        raise HTTPException(status_code=422, detail="assessed_on out of range")
    admin.set_safety(engine, venue_id, body.level, body.assessed_on)
    return {"venue_id": venue_id, "level": body.level, "assessed_on": body.assessed_on.isoformat()}


class StationConfigBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: StationMode | None = None
    capacity: int | None = Field(default=None, ge=1, le=1_000_000)
    cooldown_seconds: int | None = Field(default=None, ge=0, le=86_400)
    accepted_credentials: list[str] | None = Field(default=None, max_length=20)
    questionnaire_policy: QuestionnairePolicy | None = None
    capacity_action: CapacityAction | None = None
    closing_time: str | None = Field(default=None, max_length=5, description='"HH:MM" local time, "" for never')
    declaration_max_age_hours: int | None = Field(default=None, ge=0, le=720)
    dcc_required: bool | None = None

    @field_validator("questionnaire_policy", mode="before")
    @classmethod
    def _legacy_words(cls, value: object) -> object:
        """Scripts written for servers before revision 0004 may still send off / ask / require."""
        return None if value is None else QuestionnairePolicy.parse(value)


@router.patch("/{venue_id}/config", summary="Change the venue's station settings (venue manager)")
def patch_config(
    venue_id: VenueId, body: StationConfigBody, principal: PrincipalDep, engine: EngineDep
) -> dict[str, Any]:
    _check(principal.may_manage(venue_id))
    changes = body.model_dump(exclude_unset=True)
    try:
        return admin.update_station_config(engine, venue_id, changes)
    except admin.Invalid as exc:
        raise HTTPException(status_code=422, detail=str(exc)) from None
    except admin.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.get("/{venue_id}", summary="The venue, its kiosks' health and its event count")
def get_venue(venue_id: VenueId, principal: PrincipalDep, engine: EngineDep) -> dict[str, Any]:
    _check(principal.may_read_venue(venue_id))
    with engine.connect() as conn:
        try:
            return admin.venue_summary(conn, venue_id)
        except admin.NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None


@router.get(
    "/{venue_id}/export", summary="The venue's events as spreadsheet-safe CSV", response_class=StreamingResponse
)
def export_venue(
    venue_id: VenueId, principal: PrincipalDep, engine: ReadEngineDep, primary: EngineDep
) -> StreamingResponse:
    _check(principal.may_read_venue(venue_id))
    _existing(engine, venue_id)
    audit_venue_export((engine, primary), venue_id, actor=f"token:{principal.token_id}", role=principal.role)
    chunks = (chunk.encode() for chunk in iter_safe_csv(admin.EXPORT_HEADER, admin.export_rows(engine, venue_id)))
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="venue-{venue_id}.csv"'},
    )
