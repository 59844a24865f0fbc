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
import json
import re
import sqlite3
import subprocess
import sys
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
        good = {units["count"]: 12, units["percent"]: 75, units["yes_no"]: 1, units["stage"]: 1}[unit]
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


def _indicator_table(book: Any) -> tuple[Any, int, int]:
    """The Indicators sheet of a workbook in either language: (sheet, header row, value column)."""
    for lang in ("es", "en"):
        heads = indicator_headers(lang)
        for sheet in book.worksheets:
            for row in range(1, 16):
                if sheet.cell(row, 1).value == heads["indicator"]:
                    header = [c.value for c in sheet[row]]
                    return sheet, row, header.index(heads["value"]) + 1
    raise AssertionError("no Indicators sheet")


def _official_and_provisional(db: sqlite3.Connection, indicator: str) -> tuple[float, float]:
    """The life-of-partnership total of a sum indicator, computed from the stored rows themselves."""
    totals = []
    for statuses in (("approved",), ("approved", "submitted")):
        marks = ",".join("?" * len(statuses))
        row = db.execute(
            f"""SELECT coalesce(sum(v.value), 0) FROM value v
                JOIN submission s ON s.id = v.submission_id
                JOIN indicator i ON i.id = v.indicator_id
                JOIN partnership p ON p.id = i.partnership_id
                JOIN combination c ON c.id = v.combination_id
                WHERE p.code = 'peru-cpc' AND i.code = ? AND c.key = '' AND s.status IN ({marks})""",
            (indicator, *statuses),
        ).fetchone()
        totals.append(float(row[0]))
    return totals[0], totals[1]


def _new_version(server: Server, tmp_path: Path, partner: str, period: str, indicator: str) -> Path:
    """The partner's current report for ``period`` with every row of ``indicator`` doubled (totals stay whole)."""
    with database(server) as db:
        sha = db.execute(
            """SELECT s.file_sha256 FROM submission s JOIN partner p ON p.id = s.partner_id
               WHERE p.code = ? AND s.period = ? AND s.status <> 'superseded'""",
            (partner, period),
        ).fetchone()[0]
    original = Path(server.env["MEL_UPLOAD_DIR"]) / sha[:2] / f"{sha}.xlsx"
    book = openpyxl.load_workbook(original)
    sheet, header_row, value_col = _indicator_table(book)
    changed = 0
    for row in range(header_row + 1, sheet.max_row + 1):
        code = str(sheet.cell(row, 1).value or "")
        cell = sheet.cell(row, value_col)
        if code.split(" ")[0] == indicator and isinstance(cell.value, int | float):
            cell.value = int(cell.value) * 2
            changed += 1
    assert changed, f"{indicator} not found in {partner}'s {period} report"
    path = tmp_path / f"{partner}-{period}-v2.xlsx"
    book.save(path)
    return path


def _dashboard_actual(page: Page, server: Server, indicator: str, provisional: bool) -> float:
    page.goto(f"{server.url}/p/peru-cpc{'?provisional=1' if provisional else ''}")
    cell = page.locator(f"tr.indicator[data-code='{indicator}'] td.actual").first
    return float(cell.get_attribute("data-value") or "nan")


def test_officer_reviews_and_dashboard_follows(page_factory: Any, server: Server, shots: Any, tmp_path: Path) -> None:
    indicator, partner, period = "3.1.a", "yanapanakusun", "2022Q2"
    upload_file = _new_version(server, tmp_path, partner, period, indicator)
    mel = str(Path(sys.executable).parent / "mel")
    done = subprocess.run(
        [mel, "import", str(upload_file), "--partner", partner, "--period", period, "--json"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "accepted"

    page: Page = page_factory()
    log_in(page, server, "officer@demo.mel")
    with database(server) as db:
        official, provisional = _official_and_provisional(db, indicator)
    assert provisional > official  # the pending reports hold people reached
    assert _dashboard_actual(page, server, indicator, False) == official
    assert _dashboard_actual(page, server, indicator, True) == provisional
    shots(page, "dashboard-provisional")

    page.goto(f"{server.url}/review")
    queued = page.locator("table.queue tr.queued")
    expect(queued.first).to_be_visible()
    shots(page, "review-queue")
    own = page.locator(f"tr.queued[data-partner='{partner}'][data-period='{period}'] a.open")
    expect(own).to_have_count(1)
    own.click()
    changes = page.locator(f"table.diff tr.change[data-indicator='{indicator}'][data-change='changed']")
    assert changes.count() >= 1
    first = changes.first
    old = float(first.locator("td.old").inner_text().replace(",", ""))
    new = float(first.locator("td.new").inner_text().replace(",", ""))
    assert new == 2 * old
    shots(page, "difference-from-previous-version")
    page.click("form.review-form button.approve")
    expect(page.locator("#submission-status .status[data-status=approved]")).to_have_count(1)
    shots(page, "approved")

    page.goto(f"{server.url}/review")
    other = page.locator("tr.queued").filter(has_not=page.locator(f"[data-partner='{partner}']"))
    target = page.locator(f"tr.queued:not([data-partner='{partner}']) a.open").first
    assert other.count() >= 1
    target.click()
    page.click("form.review-form button.return")
    expect(page.locator("#submission-status .review-error, .review-error")).to_have_count(1)
    page.fill("form.review-form textarea[name=comment]", "Please add the breakdown by region for 3.1.a.")
    page.click("form.review-form button.return")
    expect(page.locator("#submission-status .status[data-status=returned]")).to_have_count(1)
    expect(page.locator("#submission-status")).to_contain_text("Please add the breakdown by region")
    shots(page, "returned-with-comment")

    with database(server) as db:
        official_after, provisional_after = _official_and_provisional(db, indicator)
    assert official_after > official
    assert _dashboard_actual(page, server, indicator, False) == official_after
    assert _dashboard_actual(page, server, indicator, True) == provisional_after
    shots(page, "dashboard-after-review")


def _number(text: str) -> float | None:
    cleaned = text.replace(",", "").replace("%", "").replace("pp", "").replace("+", "").strip()
    try:
        return float(cleaned)
    except ValueError:  # "—", "<5", "per partner": no number shown
        return None


def test_evaluator_downloads_the_comparison(page_factory: Any, server: Server, shots: Any, tmp_path: Path) -> None:
    page: Page = page_factory()
    log_in(page, server, "evaluator@demo.mel")
    page.goto(f"{server.url}/p/peru-cpc/comparison")
    shots(page, "comparison")
    page.select_option("#comparison-filters select[name=pillar]", "prosecution")
    expect(page.locator("a.download[data-format=xlsx]")).to_have_attribute("href", re.compile("pillar=prosecution"))
    rows = page.locator("#comparison-results table tbody tr[data-indicator]")
    on_page = {}
    for row in rows.all():
        code = row.get_attribute("data-indicator") or ""
        on_page[code] = tuple(
            _number(row.locator(f"td.{column}").first.inner_text().split("\n")[0])
            for column in ("baseline", "endline", "change")
        )
    with database(server) as db:
        prosecution = {
            code
            for (code,) in db.execute(
                """SELECT i.code FROM indicator i JOIN result r ON r.id = i.result_id
                   JOIN partnership p ON p.id = i.partnership_id
                   WHERE p.code = 'peru-cpc' AND r.pillar = 'prosecution'"""
            )
        }
    assert set(on_page) == prosecution
    shots(page, "prosecution-only")
    with page.expect_download() as info:
        page.click("a.download[data-format=xlsx]")
    saved = tmp_path / "comparison.xlsx"
    info.value.save_as(saved)
    book = openpyxl.load_workbook(saved, read_only=True)
    sheet = book.worksheets[0]
    table = list(sheet.iter_rows(values_only=True))
    header = list(table[0])
    columns = [header.index(k) for k in ("indicator", "baseline_value", "endline_value", "change")]
    in_file = {
        row[columns[0]]: tuple(None if row[c] in (None, "") else float(row[c]) for c in columns[1:])  # type: ignore[arg-type]
        for row in table[1:]
        if row[columns[0]]
    }
    assert set(in_file) == set(on_page)
    for code, numbers in on_page.items():
        for shown, stored in zip(numbers, in_file[code], strict=True):
            if shown is not None:
                assert stored is not None and abs(stored - shown) < 0.05 * max(1.0, abs(stored)) + 0.051, code
