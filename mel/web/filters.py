"""Query parameters that several routes share, parsed once as dependency classes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from mel.auth.identity import CurrentUser
from mel.catalog.models import LEVELS, PILLARS
from mel.core.periods import parse_quarter
from mel.results.disclosure import viewer_of
from mel.results.iptt import GRANULARITIES


@dataclass(frozen=True)
class IpttFilters:
    """The IPTT's query parameters, shared by the page and its download (and their links)."""

    granularity: str
    pillar: str | None
    level: str | None
    partner: str | None
    first: str | None
    last: str | None
    provisional: bool

    def query(self) -> str:
        params = {
            "granularity": self.granularity,
            "pillar": self.pillar or "",
            "level": self.level or "",
            "partner": self.partner or "",
            "from": self.first or "",
            "to": self.last or "",
            "provisional": "1" if self.provisional else "",
        }
        return urlencode({k: v for k, v in params.items() if v})


def iptt_filters(
    request: Request,
    granularity: str = "fy",
    pillar: str | None = None,
    level: str | None = None,
    partner: str | None = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
    provisional: str | None = None,
) -> IpttFilters:
    """The filters of the request, each unknown value dropped (an unknown partner is the route's 404)."""
    user: CurrentUser | None = getattr(request.state, "user", None)
    return IpttFilters(
        granularity=granularity if granularity in GRANULARITIES else "fy",
        pillar=pillar if pillar in (*PILLARS, "cross-cutting") else None,
        level=level if level in LEVELS else None,
        partner=partner or None,
        first=parse_quarter(first) if first else None,
        last=parse_quarter(last) if last else None,
        provisional=user is not None and viewer_of(user, provisional=provisional).provisional,
    )


IpttFiltersDep = Annotated[IpttFilters, Depends(iptt_filters)]
