"""Quarterly reporting pages' helpers: workbooks written with the partners' writer, uploads, CSRF, review.

Expected rows, cells and codes come from the rows the test wrote, and pages are read with
BeautifulSoup selectors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from bs4 import BeautifulSoup, Tag
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partner
from mel.reports.models import Submission
from mel.workbooks.report_writer import IndicatorRow, Report, write_report
from mel.workbooks.spec import partner_spec
from tests.html_soup import soup

Row = tuple[str, Mapping[str, str], float]

Login = Callable[..., TestClient]
PERIOD = "2021Q3"
HX = {"HX-Request": "true"}


def text(node: Tag | None) -> str:
    assert node is not None
    return node.get_text(" ", strip=True)


def workbook(session: Session, partner: str, rows: list[IndicatorRow], lang: str = "en", period: str = PERIOD) -> bytes:
    spec = partner_spec(session, partner_code=partner, period=period, lang=lang)
    return write_report(Report(partner=partner, period=period, indicators=rows), spec.dimensions, lang)


GOOD = [
    IndicatorRow("1.b", 14),
    IndicatorRow("1.b", 9, {"region": "lima"}),
    IndicatorRow("1.b", 5, {"region": "cusco"}),
    IndicatorRow("1.2.a", 2),
    IndicatorRow("4.1.b", "yes"),
]


def csrf(client: TestClient, url: str = f"/reports?period={PERIOD}") -> str:
    page = soup(client.get(url).text)
    field = page.select_one("input[name=csrf_token]")
    assert field is not None
    return str(field["value"])


def finish(client: TestClient, response: Any, headers: dict[str, str] | None = None) -> BeautifulSoup:
    """Follow the job's polling until it shows its result (the page polls the same URL every second)."""
    page = soup(response.text)
    for _ in range(600):
        running = page.select_one(".job-running")
        if running is None:
            return page
        time.sleep(0.05)
        page = soup(client.get(str(running["hx-get"]), headers=HX if headers is None else headers).text)
    raise AssertionError("the import job did not finish")


def upload(
    client: TestClient,
    data: bytes,
    *,
    partner: str = "ilo",
    period: str = PERIOD,
    reason: str | None = None,
    htmx: bool = True,
) -> Any:
    token = csrf(client, f"/reports?partner={partner}&period={period}")
    form = {"partner": partner, "period": period, "csrf_token": token}
    if reason is not None:
        form["reason"] = reason
    files = {"file": ("report.xlsx", data, "application/octet-stream")}
    headers = {**HX, "X-CSRF-Token": token} if htmx else {}
    return client.post("/reports/upload", data=form, files=files, headers=headers, follow_redirects=False)


def issues(page: BeautifulSoup, kind: str = "errors") -> set[tuple[str, str, str]]:
    return {
        (text(tr.select_one("td.sheet")), text(tr.select_one("td.cell")), text(tr.select_one("td.code")))
        for tr in page.select(f"table.issues[data-table='{kind}'] tbody tr.issue")
    }


def submissions(session: Session, partner: str) -> list[Submission]:
    session.expire_all()
    return list(
        session.scalars(
            select(Submission).join(Partner).where(Partner.code == partner).order_by(Submission.version)
        ).all()
    )


def _review(client: TestClient, sid: int, action: str, comment: str = "", htmx: bool = True) -> Any:
    token = csrf(client, f"/submissions/{sid}")
    headers = {**HX, "X-CSRF-Token": token} if htmx else {}
    return client.post(
        f"/submissions/{sid}/review",
        data={"action": action, "comment": comment, "csrf_token": token},
        headers=headers,
        follow_redirects=False,
    )
