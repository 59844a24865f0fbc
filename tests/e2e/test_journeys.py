"""The product as its users meet it: four journeys in headless Chromium against `mel serve` on the demo.

1. A partner user (Spanish interface) downloads the template, uploads it with two mistakes, sees
   both errors by sheet and cell without a page reload, uploads the corrected file, sees it accepted.
2. A program officer reviews: the difference from the previous version, a return with a comment,
   an approval; the dashboard's provisional toggle shows the difference.
3. An evaluator filters baseline vs endline to one pillar, downloads the XLSX and its numbers are
   the page's.
4. A partner user cannot reach another partner's submission by editing the URL.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
from playwright.sync_api import Page, expect

from mel.auth.service import DEMO_PASSWORD
from mel.workbooks.labels import indicator_headers, unit_labels
from tests.e2e.conftest import Server

HEADER_ROW = 4


def log_in(page: Page, server: Server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("form.login button[type=submit]")
    expect(page.locator("form.login")).to_have_count(0)


def database(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.env["MEL_DATABASE_URL"].removeprefix("sqlite:///"))


def fill_template(template: bytes, lang: str, mistakes: dict[int, Any]) -> tuple[bytes, dict[int, str]]:
    """Type a plausible number in every pre-filled total; ``mistakes`` maps a row offset to a bad value.

    Returns the workbook and, for each mistake, the A1 name of the cell that holds it.
    """
    book = openpyxl.load_workbook(io.BytesIO(template))
    heads, units = indicator_headers(lang), unit_labels(lang)
    sheet = next(ws for ws in book.worksheets if ws.cell(HEADER_ROW, 1).value == heads["indicator"])
    header = [c.value for c in sheet[HEADER_ROW]]
    value_col = header.index(heads["value"]) + 1
    cells: dict[int, str] = {}
    for offset, row in enumerate(range(HEADER_ROW + 1, sheet.max_row + 1)):
        unit = sheet.cell(row, 3).value
        if sheet.cell(row, 1).value is None or unit is None:
            break
        good = {units["count"]: 12, units["percent"]: 75, units["yes_no"]: 1}[unit]
        cell = sheet.cell(row, value_col)
        if offset in mistakes and unit == units["count"]:
            cell.value = mistakes[offset]
            cells[offset] = cell.coordinate
        else:
            cell.value = good
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), cells


def upload(page: Page, path: Path) -> None:
    reason = page.locator("textarea[name=reason]")
    if reason.count():
        reason.fill("Corrección de las cifras del trimestre")
    page.set_input_files("form.upload input[type=file]", str(path))
    page.click("form.upload button[type=submit]")


def test_partner_uploads_in_spanish(page_factory: Any, server: Server, shots: Any, tmp_path: Path) -> None:
    page: Page = page_factory()
    log_in(page, server, "ilo@demo.mel")
    page.goto(f"{server.url}/reports")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    shots(page, "reportes")
    with page.expect_download() as info:
        page.click("a.download")
    template = Path(info.value.path()).read_bytes()

    marker = page.evaluate("() => { window.__noReload = 'yes'; return window.__noReload }")
    bad, cells = fill_template(template, "es", {0: "muchos", 1: -5})
    assert len(cells) == 2
    (tmp_path / "con-errores.xlsx").write_bytes(bad)
    upload(page, tmp_path / "con-errores.xlsx")
    rows = page.locator("table.issues-errors tr.issue")
    expect(rows).to_have_count(2, timeout=30_000)
    found = {
        (r.get_attribute("data-code"), r.get_attribute("data-sheet"), r.get_attribute("data-cell")) for r in rows.all()
    }
    assert found == {("not_a_number", "Indicadores", cells[0]), ("negative_value", "Indicadores", cells[1])}
    assert page.evaluate("() => window.__noReload") == marker, "the page reloaded"
    shots(page, "dos-errores")

    good, _ = fill_template(template, "es", {})
    (tmp_path / "corregido.xlsx").write_bytes(good)
    upload(page, tmp_path / "corregido.xlsx")
    expect(page.locator(".import-result[data-status=accepted]")).to_have_count(1, timeout=60_000)
    assert page.evaluate("() => window.__noReload") == marker
    shots(page, "aceptado")


def test_partner_cannot_reach_another_partners_submission(page_factory: Any, server: Server, shots: Any) -> None:
    with database(server) as db:
        own, other = (
            db.execute(
                "SELECT s.id FROM submission s JOIN partner p ON p.id = s.partner_id WHERE p.code = ? ORDER BY s.id",
                (code,),
            ).fetchone()[0]
            for code in ("chs", "aba-roli")
        )
    page: Page = page_factory()
    log_in(page, server, "chs@demo.mel")
    response = page.goto(f"{server.url}/submissions/{own}")
    assert response is not None and response.status == 200
    shots(page, "own-submission")
    for path in (f"/submissions/{other}", f"/submissions/{other}/file", "/submissions/99999999"):
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 404, path
    shots(page, "other-partner-404")
