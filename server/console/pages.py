"""The console's page routers, in one list: `install(app)` includes each (add a page module's router here)."""

from __future__ import annotations

from fastapi import APIRouter

from server.console import fleet_pages, placeholders, venue_pages

PAGE_ROUTERS: tuple[APIRouter, ...] = (placeholders.router, venue_pages.router, fleet_pages.router)
