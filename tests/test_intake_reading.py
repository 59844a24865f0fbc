"""Bounded reading and isolated imports: no workbook can make the importer allocate a sheet's grid.

The hostile files are real templates with one far-away cell added (the 7 KB file that used to
abort the server), sheets whose ``<dimension>`` lies, and a sheet holding hundreds of MB of XML.
They are refused by ``mel import`` and by the web upload within seconds, and the server answers
afterwards; with the reader's limit lifted, the worker process dies instead of the server.
"""

from __future__ import annotations

import io
import json
import mmap
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from mel.cli import app as cli
from mel.core.paths import IMPORTS_DIR
from mel.core.settings import Settings
from mel.reports.worker import ImportRequest, run_isolated
from mel.results.prefill import build_template
from mel.workbooks.book import WorkbookError
from mel.workbooks.extent import sheet_extent
from mel.workbooks.reader import read_workbook
from tests.report_factory import GOOD, finish, issues, upload, workbook

PERIOD = "2021Q3"


def _with_cell(data: bytes, sheet_index: int, cell: str, value: str = "x") -> tuple[bytes, str]:
    """The workbook with one more cell on one (possibly hidden) sheet; and that sheet's name."""
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[sheet_index]
    sheet[cell] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), sheet.title


def _hidden_sheet(data: bytes) -> int:
    book = load_workbook(io.BytesIO(data))
    return next(i for i, ws in enumerate(book.worksheets) if ws.sheet_state == "hidden")


@pytest.fixture
def grid_file(session: Session) -> tuple[bytes, str]:
    """The 7 KB attack: the partner's real template plus one cell at XFD1048576 on the hidden lists sheet."""
    template = build_template(session=session, partner_code="ilo", period=PERIOD, lang="en")
    return _with_cell(template, _hidden_sheet(template), "XFD1048576")


def test_extent_is_measured_from_the_cells_not_the_dimension() -> None:
    xml = (
        b'<worksheet><dimension ref="A1:B2"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
        b'<row r="7"><c r="C7"><v>2</v></c><c r="AB3"><v>3</v></c></row></sheetData></worksheet>'
    )
    extent = sheet_extent(xml)
    assert (extent.rows, extent.columns, extent.cells) == (7, 28, 3)
    # cells without a reference are placed the way calamine places them: next column, same row
    walked = sheet_extent(
        b'<x:worksheet><x:sheetData><x:row r="4"><x:c><x:v>1</x:v></x:c><x:c s="1"><x:v>2</x:v></x:c>'
        b"<x:c/></x:row></x:sheetData></x:worksheet>"
    )
    assert (walked.rows, walked.columns, walked.cells) == (4, 3, 3)
    assert sheet_extent(b"<worksheet><sheetData/></worksheet>").grid == 0
    # the far cell first and rows out of order: the last cell is not the greatest
    unsorted = sheet_extent(
        b'<worksheet><sheetData><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
        b'<row r="1"><c r="A1"><v>1</v></c></row></sheetData></worksheet>'
    )
    assert (unsorted.rows, unsorted.columns) == (1_048_576, 16_384)


def test_extent_stays_one_pass_when_every_row_reaches_further() -> None:
    """A staircase (each row one column further) is the worst case of the search: still fast."""
    from mel.workbooks.book import column_letter

    rows = "".join(f'<row r="{n}"><c r="{column_letter(n - 1)}{n}"><v>1</v></c></row>' for n in range(1, 16_385))
    xml = f"<worksheet><sheetData>{rows}</sheetData></worksheet>".encode()
    # the same rows all in column A: the linear case, timed beside it so a busy machine slows both
    flat = "".join(f'<row r="{n}"><c r="A{n}"><v>1</v></c></row>' for n in range(1, 16_385))
    flat_xml = f"<worksheet><sheetData>{flat}</sheetData></worksheet>".encode()

    def best_of_three(data: bytes) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            sheet_extent(data)
            times.append(time.perf_counter() - start)
        return min(times)

    extent = sheet_extent(xml)
    assert (extent.rows, extent.columns, extent.cells) == (16_384, 16_384, 16_384)
    # a search that rescanned earlier rows would be thousands of times slower than the flat sheet
    assert best_of_three(xml) < 10 * best_of_three(flat_xml) + 0.05


def test_whole_grid_cell_is_refused_before_calamine_reads(grid_file: tuple[bytes, str]) -> None:
    data, lists = grid_file
    assert len(data) < 40_000  # a template with one more cell
    start = time.perf_counter()
    with pytest.raises(WorkbookError) as refused:
        read_workbook(data, max_bytes=len(data) + 1)
    assert time.perf_counter() - start < 5
    assert (refused.value.code, refused.value.sheet) == ("too_large", lists)
    # a lying <dimension> alone costs nothing: the template still reads (its lists sheet included)
    lying = build_lying_dimension(data)
    assert read_workbook(lying, max_bytes=len(lying) + 1).sheets


def build_lying_dimension(data: bytes) -> bytes:
    """The workbook with the far cell removed again but every sheet's dimension claiming the grid."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            blob = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                text = blob.decode()
                far = text.find('<c r="XFD1048576"')
                if far >= 0:
                    text = text[:far] + text[text.index("</c>", far) + 4 :]
                start = text.find("<dimension ref=")
                if start >= 0:
                    end = text.index("/>", start)
                    text = text[:start] + '<dimension ref="A1:XFD1048576"' + text[end:]
                blob = text.encode()
            target.writestr(info, blob)
    return out.getvalue()


def test_a_tall_claimed_grid_is_refused_too(session: Session) -> None:
    """A1 + CV100000 (26 KB) used to push the server from 160 to 540 MB and be accepted."""
    data, name = _with_cell(workbook(session, "ilo", GOOD), 1, "CV100000")
    with pytest.raises(WorkbookError) as refused:
        read_workbook(data, max_bytes=len(data) + 1)
    assert (refused.value.code, refused.value.sheet) == ("too_large", name)
    # the limit is the setting, not a hard-coded size: a 100 x 20,000 grid reads, unless limited below it
    smaller, _ = _with_cell(workbook(session, "ilo", GOOD), 1, "CV20000")
    book = read_workbook(smaller, max_bytes=len(smaller) + 1)
    assert len(next(s for s in book.sheets if s.name == name).rows) == 20_000
    with pytest.raises(WorkbookError):
        read_workbook(smaller, max_bytes=len(smaller) + 1, max_cells=1_999_999)


def test_mel_import_refuses_the_grid_file_quickly(
    grid_file: tuple[bytes, str], settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data, lists = grid_file
    path = tmp_path / "grid.xlsx"
    path.write_bytes(data)
    monkeypatch.setenv("MEL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MEL_UPLOAD_DIR", str(settings.upload_dir))
    start = time.perf_counter()
    result = CliRunner().invoke(cli, ["import", str(path), "--dry-run", "--json", "--lang", "es"])
    assert time.perf_counter() - start < 5
    assert result.exit_code == 1, result.output
    printed = json.loads(result.stdout)
    assert printed["status"] == "rejected"
    assert [(e["code"], e["sheet"], e["cell"]) for e in printed["errors"]] == [("too_large", lists, "")]
    assert lists in printed["errors"][0]["message"] and "demasiado grande" in printed["errors"][0]["message"]


def test_web_upload_of_the_grid_file_is_refused_and_the_server_answers(
    client: TestClient, login_as, grid_file: tuple[bytes, str]
) -> None:
    data, lists = grid_file
    login_as(client, "partner", partner="ilo")
    start = time.perf_counter()
    page = finish(client, upload(client, data))
    assert time.perf_counter() - start < 5
    assert issues(page) == {(lists, "—", "too_large")}
    assert client.get("/reports").status_code == 200


def test_a_file_that_kills_its_worker_becomes_a_rejection(grid_file: tuple[bytes, str], settings: Settings) -> None:
    """With the reader's limit lifted, calamine tries to allocate the grid: the worker dies, not us."""
    data, _lists = grid_file
    unbounded = settings.model_copy(update={"max_sheet_cells": 10**15, "import_memory_mb": 1024})
    start = time.perf_counter()
    result = run_isolated(unbounded, ImportRequest(data=data, filename="grid.xlsx", dry_run=True, lang="es"))
    assert time.perf_counter() - start < 30
    assert result.status == "rejected"
    assert [e.code for e in result.errors] == ["could_not_read"]
    assert "memoria" in result.errors[0].message
    # and the next import, in a fresh worker, works
    good = run_isolated(settings, ImportRequest(data=data, filename="grid.xlsx", dry_run=True))
    assert [e.code for e in good.errors] == ["too_large"]


def _heavy_xlsx(path: Path, xml_bytes: int) -> None:
    """A small workbook whose one sheet holds ``xml_bytes`` of (highly compressible) XML."""
    row = '<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>' + "a" * 900 + "</t></is></c></row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="xml" ContentType="application/xml"/></Types>',
        )
        z.writestr(
            "xl/workbook.xml",
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Heavy" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            written, r = 0, 1
            while written < xml_bytes:
                chunk = "".join(row.format(r=n) for n in range(r, r + 1000)).encode()
                sheet.write(chunk)
                written += len(chunk)
                r += 1000
            sheet.write(b"</sheetData></worksheet>")


PEAK_SCRIPT = """
import sys
from pathlib import Path
from mel.core.settings import Settings
from mel.workbooks.book import WorkbookError
from mel.workbooks.reader import read_workbook
s = Settings()
data = Path(sys.argv[1]).read_bytes()
try:
    read_workbook(data, max_bytes=int(s.max_upload_mb * 2**20), max_part_bytes=s.max_part_bytes,
                  max_cells=s.max_sheet_cells)
    print("read")
except WorkbookError as exc:
    print(exc.code, exc.sheet)
# this process's own peak (VmHWM starts afresh at exec; ru_maxrss may carry the forking parent's peak)
hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) // 1024)
"""


def test_heavy_xml_is_refused_within_its_bound(tmp_path: Path) -> None:
    """475 MB of sheet XML in a 3 MB upload (under the size and ratio caps) is refused, cheaply."""
    path = tmp_path / "heavy.xlsx"
    _heavy_xlsx(path, 475_000_000)
    assert path.stat().st_size < 20 * 2**20
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEL_")}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, str(path)], capture_output=True, text=True, env=env, check=True
    )
    assert time.perf_counter() - start < 30
    verdict, peak = done.stdout.splitlines()
    assert verdict == "too_large Heavy"
    assert int(peak) <= 500, f"peak {peak} MiB"


@pytest.mark.parametrize("backend", ["sqlite"])  # a limit of the worker process, whatever the database
def test_a_worker_forked_from_a_large_caller_keeps_its_whole_budget(settings: Settings) -> None:
    """``mel import`` forks its worker from itself; a caller that holds much address space (here 3 GB
    reserved, never touched, beyond the 2 GB budget) must not leave the import too little to read a
    small report: the limit counts what the import adds."""
    data = (IMPORTS_DIR / "ilo-2021Q3.xlsx").read_bytes()
    reserved = mmap.mmap(-1, 3 * 1024**3)
    try:
        result = run_isolated(
            settings, ImportRequest(data=data, filename="ilo-2021Q3.xlsx", dry_run=True), start_method="fork"
        )
    finally:
        reserved.close()
    assert settings.import_memory_mb * 1024**2 < 3 * 1024**3
    assert result.status == "accepted", [(e.code, e.message) for e in result.errors]
