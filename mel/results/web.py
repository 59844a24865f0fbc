"""The progress pages' routers in one place, so the app wires them with one line."""

from __future__ import annotations

from fastapi import APIRouter

from mel.results import indicator_routes, iptt_routes, progress_routes, target_routes

router = APIRouter()
router.include_router(progress_routes.router)
router.include_router(indicator_routes.router)
router.include_router(iptt_routes.router)
router.include_router(target_routes.router)
