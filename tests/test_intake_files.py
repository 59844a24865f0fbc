"""What a stored workbook may carry: no macros, no links to other machines, an inert file name."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.core.settings import Settings
from mel.reports.files import safe_filename, stored_path
from mel.reports.models import StoredFile, Submission
from mel.reports.service import import_workbook
from mel.workbooks.reader import read_workbook
from tests.report_factory import GOOD, csrf, finish, issues, workbook

Login = Callable[..., TestClient]
SHARE = "file:///\\\\attacker-host\\share\\book.xlsx"


def _rewrite(data: bytes, change: Callable[[str, bytes], bytes], extra: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change(info.filename, source.read(info)))
        for name, blob in extra.items():
            target.writestr(name, blob)
    return out.getvalue()


def with_macros(data: bytes) -> bytes:
    def change(name: str, blob: bytes) -> bytes:
        if name == "[Content_Types].xml":
            return blob.replace(
                b"</Types>",
                b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>',
            )
        return blob

    return _rewrite(data, change, {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0 not really VBA"})


def with_external_link(data: bytes) -> bytes:
    def change(name: str, blob: bytes) -> bytes:
        if name == "xl/workbook.xml":
            return blob.replace(
                b"</sheets>", b'</sheets><externalReferences><externalReference r:id="rIdX"/></externalReferences>'
            )
        if name == "xl/_rels/workbook.xml.rels":
            return blob.replace(
                b"</Relationships>",
                b'<Relationship Id="rIdX" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>',
            )
        if name == "[Content_Types].xml":
            return blob.replace(
                b"</Types>",
                b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>',
            )
        return blob

    link = (
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        b'<externalBook r:id="rId1"><sheetNames><sheetName val="Data"/></sheetNames></externalBook></externalLink>'
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'externalLinkPath" Target="{SHARE}" TargetMode="External"/></Relationships>'
    ).encode()
    extra = {"xl/externalLinks/externalLink1.xml": link, "xl/externalLinks/_rels/externalLink1.xml.rels": rels}
    assert b"xmlns:r=" in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    return _rewrite(data, change, extra)


@pytest.mark.parametrize(("lang", "words"), [("en", "macros"), ("es", "macros")])
def test_macro_enabled_workbooks_are_refused(session: Session, settings: Settings, lang: str, words: str) -> None:
    data = with_macros(workbook(session, "ilo", GOOD))
    result = import_workbook(session=session, data=data, filename="r.xlsm", settings=settings, lang=lang)
    assert result.status == "rejected"
    assert [e.code for e in result.errors] == ["not_a_workbook"]
    assert words in result.errors[0].message and ".xlsx" in result.errors[0].message
    assert session.scalar(select(StoredFile.sha256)) is None


def test_external_links_are_stripped_with_a_warning(session: Session, settings: Settings) -> None:
    data = with_external_link(workbook(session, "ilo", GOOD))
    assert read_workbook(data, max_bytes=len(data) + 1).external_links
    result = import_workbook(session=session, data=data, filename="r.xlsx", settings=settings, lang="es")
    session.commit()
    assert result.status == "accepted", result.errors
    assert [w.code for w in result.warnings if w.code == "external_links_removed"] == ["external_links_removed"]
    assert len(result.values) == len(GOOD)
    kept = stored_path(settings.upload_dir, result.sha256 or "").read_bytes()
    names = zipfile.ZipFile(io.BytesIO(kept)).namelist()
    assert not any(n.lower().startswith("xl/externallinks/") for n in names)
    assert b"attacker-host" not in b"".join(zipfile.ZipFile(io.BytesIO(kept)).read(n) for n in names)
    again = read_workbook(kept, max_bytes=len(kept) + 1)  # still a workbook, with the same values
    assert not again.external_links and [s.name for s in again.sheets]


def test_stored_file_name_is_sanitized_for_download(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo")
    token = csrf(client)
    files = {"file": ("../../informe año.xlsx", workbook(session, "ilo", GOOD), "application/octet-stream")}
    response = client.post(
        "/reports/upload",
        data={"partner": "ilo", "period": "2021Q3", "csrf_token": token},
        files=files,
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    page = finish(client, response)
    assert not issues(page)
    submission = session.scalar(select(Submission.id))
    download = client.get(f"/submissions/{submission}/file")
    assert download.status_code == 200
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "/" not in disposition and "\r" not in disposition and "\n" not in disposition
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == "informe año.xlsx"
    assert 'filename="informe a_o.xlsx"' in disposition  # the ASCII fallback for old clients


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../x.xlsx", "x.xlsx"),
        ("..\\..\\windows\\evil.xlsx", "evil.xlsx"),
        ("a\r\nSet-Cookie: x.xlsx", "a_Set-Cookie_ x.xlsx"),
        ('"quoted";.xlsx', "quoted_.xlsx"),
        ("", "upload.xlsx"),
        ("/", "upload.xlsx"),
    ],
)
def test_safe_filename(sent: str, kept: str) -> None:
    assert safe_filename(sent) == kept
