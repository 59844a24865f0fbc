"""The comparison page and the export downloads in one router, so the app wires them with one line."""

from __future__ import annotations

from fastapi import APIRouter

from mel.exports import routes
from mel.results import comparison_routes

router = APIRouter()
router.include_router(comparison_routes.router)
router.include_router(routes.router)
