"""The app's routers, one module per resource; ``ROUTERS`` is the order the app includes them in."""

from __future__ import annotations

from fastapi import APIRouter

from mel.web.routes import (
    account,
    audit,
    comparison,
    exports,
    indicators,
    iptt,
    measurements,
    pages,
    progress,
    quality,
    queries,
    received,
    submissions,
    targets,
    tokens,
    training_followup,
    trainings,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        account,
        audit,
        pages,
        trainings,
        training_followup,
        quality,
        progress,
        indicators,
        iptt,
        targets,
        submissions,
        queries,
        received,
        measurements,
        comparison,
        exports,
        tokens,
    )
)
