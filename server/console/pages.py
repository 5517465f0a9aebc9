"""The console's page routers, in one list: `install(app)` includes each (add a page module's router here)."""

from __future__ import annotations

from fastapi import APIRouter

from server.console import admin_pages, fleet_pages, person_pages, trace_pages, venue_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (
    trace_pages.router,
    person_pages.router,
    admin_pages.router,
    venue_pages.router,
    fleet_pages.router,
)
