"""The choices every export takes, from the command line or a download link."""

from __future__ import annotations

from dataclasses import dataclass

from mel.results.disclosure import Viewer, operator


@dataclass(frozen=True)
class ExportOptions:
    """Approved data and suppression by default; the rest narrows what an export holds."""

    include_provisional: bool = False
    suppress: bool = True
    lang: str = "en"
    dimension: str | None = None  # comparison: categories of this dimension
    pillar: str | None = None
    level: str | None = None
    partner: str | None = None  # trainings, iptt: one partner's code
    first_period: str | None = None
    last_period: str | None = None
    granularity: str = "fy"  # iptt: quarter | fy | lop
    original_targets: bool = False  # iptt: the original target beside each revised one
    reporting_org: str = "US-GOV-11"  # iati: the IATI organisation identifier of the funder
    reporting_org_name: str = "U.S. Department of State, Office to Monitor and Combat Trafficking in Persons"
    base_url: str = "http://127.0.0.1:8000"  # iati: where the document links point

    def viewer(self) -> Viewer:
        """Exports are read by whoever receives the file: the gate's operator view, suppressed unless asked."""
        return operator(provisional=self.include_provisional, suppress=self.suppress)
