"""Two-level review in the browser: ILO (prime) reviews its sub-recipient CHS's report, returns it
with a query on one value; CHS answers with a corrected version, which resolves the query; ILO
approves it on to the officer, who approves it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Server
from tests.e2e.test_journeys import _indicator_table, database, log_in, upload

PARTNER, PERIOD, INDICATOR = "chs", "2022Q2", "2.2.a"


def _current(server: Server) -> tuple[int, str, str]:
    with database(server) as db:
        row = db.execute(
            """SELECT s.id, s.file_sha256, s.status FROM submission s JOIN partner p ON p.id = s.partner_id
               WHERE p.code = ? AND s.period = ? AND s.status <> 'superseded'""",
            (PARTNER, PERIOD),
        ).fetchone()
    return int(row[0]), str(row[1]), str(row[2])


def _scaled(server: Server, tmp_path: Path, factor: float, name: str) -> tuple[Path, int]:
    """CHS's current report with every row of 2.2.a multiplied by ``factor``; its new total."""
    _sid, sha, _status = _current(server)
    book = openpyxl.load_workbook(Path(server.env["MEL_UPLOAD_DIR"]) / sha[:2] / f"{sha}.xlsx")
    sheet, header_row, value_col = _indicator_table(book)
    total = None
    for row in range(header_row + 1, sheet.max_row + 1):
        cell = sheet.cell(row, value_col)
        if str(sheet.cell(row, 1).value or "").split(" ")[0] == INDICATOR and isinstance(cell.value, int | float):
            cell.value = int(cell.value * factor)
            if total is None:
                total = cell.value  # the total row comes first
    assert total is not None, f"{INDICATOR} not in CHS's {PERIOD} report"
    path = tmp_path / name
    book.save(path)
    return path, total


def test_prime_reviews_with_a_query_then_officer_approves(
    page_factory: Any, server: Server, shots: Any, tmp_path: Path
) -> None:
    # a version of CHS's last report with 2.2.a doubled, awaiting ILO's review
    doubled, high = _scaled(server, tmp_path, 2, "chs-doubled.xlsx")
    mel = str(Path(sys.executable).parent / "mel")
    done = subprocess.run(
        [mel, "import", str(doubled), "--partner", PARTNER, "--period", PERIOD, "--json", "--reason", "e2e"],
        env=server.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["status"] == "accepted"
    sid, _sha, _status = _current(server)

    # ILO sees it in its queue at the prime level, asks about 2.2.a and returns the report
    ilo: Page = page_factory()
    log_in(ilo, server, "ilo@demo.mel")
    ilo.goto(f"{server.url}/review")
    row = ilo.locator(f"tr.queued[data-id='{sid}']")
    expect(row).to_have_attribute("data-level", "prime")
    shots(ilo, "ilo-queue")
    row.locator("a.open").click()
    expect(ilo.locator("#submission-status .review-level[data-level=prime]")).to_have_count(1)
    option = ilo.evaluate(
        """(code) => [...document.querySelectorAll('form.query-ask option')]
             .find(o => o.textContent.trim().startsWith(code + ' · Total')).value""",
        INDICATOR,
    )
    ilo.select_option("form.query-ask select[name=value_id]", option)
    ilo.fill("form.query-ask textarea[name=question]", f"{high} es el doble del trimestre anterior: ¿es correcto?")
    ilo.click("form.query-ask button.ask")
    query = ilo.locator(f"article.value-query[data-indicator='{INDICATOR}'][data-status=open]")
    expect(query).to_have_count(1)
    ilo.fill("form.review-form textarea[name=comment]", "Revisen la consulta sobre 2.2.a.")
    ilo.click("form.review-form button.return")
    expect(ilo.locator("#submission-status .status[data-status=returned]")).to_have_count(1)
    shots(ilo, "ilo-returned-with-query")

    # CHS sees the open query and uploads a corrected version from its report page
    chs: Page = page_factory()
    log_in(chs, server, "chs@demo.mel")
    chs.goto(f"{server.url}/submissions/{sid}")
    expect(chs.locator(f"article.value-query[data-indicator='{INDICATOR}'][data-status=open]")).to_have_count(1)
    shots(chs, "chs-sees-query")
    corrected, low = _scaled(server, tmp_path, 0.5, "chs-corregido.xlsx")
    assert low * 2 == high
    chs.goto(f"{server.url}/reports?partner={PARTNER}&period={PERIOD}")
    upload(chs, corrected)
    expect(chs.locator(".import-result[data-status=accepted]")).to_have_count(1, timeout=60_000)
    new_sid, _sha, status = _current(server)
    assert new_sid != sid and status == "submitted"
    chs.goto(f"{server.url}/submissions/{new_sid}")
    resolved = chs.locator(f"article.value-query[data-indicator='{INDICATOR}'][data-status=resolved]")
    expect(resolved).to_have_count(1)
    expect(resolved.locator(".version-change")).to_contain_text(f"{high:g} → {low:g}")
    shots(chs, "chs-query-resolved-by-new-version")

    # ILO approves it on to the officer
    ilo.goto(f"{server.url}/submissions/{new_sid}")
    ilo.click("form.review-form button.approve")
    expect(ilo.locator("#submission-status .review-level[data-level=officer]")).to_have_count(1)
    shots(ilo, "ilo-approved-to-officer")

    # the officer approves
    officer: Page = page_factory()
    log_in(officer, server, "officer@demo.mel")
    officer.goto(f"{server.url}/review")
    row = officer.locator(f"tr.queued[data-id='{new_sid}']")
    expect(row).to_have_attribute("data-level", "officer")
    row.locator("a.open").click()
    officer.click("form.review-form button.approve")
    expect(officer.locator("#submission-status .status[data-status=approved]")).to_have_count(1)
    shots(officer, "officer-approved")
    with database(server) as db:
        levels = db.execute(
            "SELECT level, action FROM submission_review WHERE submission_id = ? ORDER BY id", (new_sid,)
        ).fetchall()
    assert levels == [("prime", "approved"), ("officer", "approved")]
