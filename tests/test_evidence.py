"""Evidence (means of verification): typed from bytes, refused when it lists persons, kept by SHA-256,
opened by staff and the partner, indexed (not opened) by evaluators."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.catalog.models import Indicator
from mel.reports.evidence import evidence_path, sniff
from mel.reports.models import Submission, Value
from mel.reports.review_models import EvidenceFile
from tests.html_soup import soup
from tests.report_factory import PERIOD, csrf
from tests.value_factory import add_submission

Login = Callable[..., TestClient]
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40


def xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def report(session: Session, partner: str = "chs", status: str = "submitted") -> Submission:
    sub = add_submission(session, partner=partner, period=PERIOD, values=[("2.2.a", {}, 40.0)], status=status)
    session.commit()
    return sub


def attach(client: TestClient, sid: int, name: str, data: bytes, value_id: int | None = None) -> object:
    token = csrf(client, f"/submissions/{sid}")
    return client.post(
        f"/submissions/{sid}/evidence",
        data={"csrf_token": token, "value_id": str(value_id or ""), "description": "Signed list"},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )


def count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(EvidenceFile)) or 0)


def test_sniffing_goes_by_the_bytes() -> None:
    assert sniff(PDF) == "application/pdf"
    assert sniff(PNG) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff(xlsx([["Indicator", "Value"], ["2.2.a", 40]])).endswith("spreadsheetml.sheet")  # type: ignore[union-attr]
    assert sniff(b"Indicator;Value\n2.2.a;40\n") == "text/csv"
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00") is None  # a Windows program, whatever its name
    assert sniff(b"<html><script>alert(1)</script></html>") is None


def test_evidence_refused_when_it_holds_personal_data_headers(
    client: TestClient, login_as: Login, session: Session, settings: object
) -> None:
    sub = report(session)
    login_as(client, "partner", partner="chs")
    listing = xlsx(
        [["Lista de participantes"], [], ["Nombre y apellidos", "DNI", "Institución"], ["Ana", "123", "MIMP"]]
    )
    response = attach(client, sub.id, "participantes.xlsx", listing)
    assert response.status_code == 422  # type: ignore[attr-defined]
    page = soup(response.text)  # type: ignore[attr-defined]
    error = page.select_one(".followup-error")
    assert error is not None and "Nombre y apellidos" in error.get_text() and "DNI" in error.get_text()
    csv_listing = b"Name,Phone,Course\nAna,999,Protocol\n"
    assert attach(client, sub.id, "list.csv", csv_listing).status_code == 422  # type: ignore[attr-defined]
    assert count(session) == 0
    upload_dir = Path(settings.upload_dir)  # type: ignore[attr-defined]
    for data in (listing, csv_listing):
        assert not evidence_path(upload_dir, hashlib.sha256(data).hexdigest()).exists()
    # counts of participants by institution are no personal data: accepted
    counts = xlsx([["Institución", "Mujeres", "Hombres"], ["MIMP", 12, 3]])
    assert attach(client, sub.id, "asistencia.xlsx", counts).status_code == 303  # type: ignore[attr-defined]
    assert count(session) == 1


def test_evidence_is_typed_by_bytes_and_stored_by_digest(
    client: TestClient, login_as: Login, session: Session, settings: object
) -> None:
    sub = report(session)
    value_id = session.scalar(select(Value.id).where(Value.submission_id == sub.id))
    login_as(client, "partner", partner="chs")
    assert attach(client, sub.id, "resolution.xlsx", PDF, value_id).status_code == 303  # type: ignore[attr-defined]
    row = session.scalars(select(EvidenceFile)).one()
    assert row.media_type == "application/pdf" and row.size == len(PDF)
    assert row.indicator_id == session.scalar(select(Indicator.id).where(Indicator.code == "2.2.a"))
    path = evidence_path(Path(settings.upload_dir), hashlib.sha256(PDF).hexdigest())  # type: ignore[attr-defined]
    assert path.read_bytes() == PDF
    refused = attach(client, sub.id, "notes.pdf", b"MZ\x90\x00 not a pdf")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert count(session) == 1


def test_evidence_access_by_role(client: TestClient, login_as: Login, session: Session) -> None:
    sub = report(session, status="approved")
    login_as(client, "partner", partner="chs")
    assert attach(client, sub.id, "acta.pdf", PDF).status_code == 303  # type: ignore[attr-defined]
    evidence_id = session.scalars(select(EvidenceFile.id)).one()
    url = f"/evidence/{evidence_id}"

    for role, partner in (("officer", None), ("admin", None), ("partner", "chs"), ("partner", "ilo")):
        login_as(client, role, partner=partner)
        response = client.get(url)
        assert response.status_code == 200, (role, partner)
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith('attachment; filename="acta.pdf"')
        assert response.headers["x-content-type-options"] == "nosniff"
    # another partner: as if it did not exist; an evaluator: the index only
    login_as(client, "partner", partner="aba-roli")
    assert client.get(url).status_code == 404
    login_as(client, "evaluator")
    assert client.get(url).status_code == 403
    sources = soup(client.get("/p/peru-cpc/indicators/2.2.a/sources", params={"period": PERIOD}).text)
    item = sources.select_one(f"li.evidence-file[data-evidence='{evidence_id}']")
    assert item is not None and "acta.pdf" in item.get_text() and item.select_one("a") is None
    login_as(client, "officer")
    sources = soup(client.get("/p/peru-cpc/indicators/2.2.a/sources", params={"period": PERIOD}).text)
    link = sources.select_one(f"li.evidence-file[data-evidence='{evidence_id}'] a")
    assert link is not None and str(link["href"]).endswith(url)
    # evaluators attach nothing
    login_as(client, "evaluator")
    token = csrf(client, "/p/peru-cpc/quality")
    refused = client.post(
        f"/submissions/{sub.id}/evidence",
        data={"csrf_token": token},
        files={"file": ("x.pdf", PDF, "application/pdf")},
    )
    assert refused.status_code == 403
    assert count(session) == 1


def test_submission_page_lists_indicators_missing_evidence(
    client: TestClient, login_as: Login, session: Session
) -> None:
    # 1.c keeps "the case file number as means of verification"; 4.1.b asks for none
    sub = add_submission(
        session, partner="ilo", period=PERIOD, values=[("1.c", {}, 3.0), ("4.1.b", {}, 1.0)], status="submitted"
    )
    session.commit()
    login_as(client, "officer")
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert [a["data-indicator"] for a in page.select(".missing-evidence abbr.missing")] == ["1.c"]
    value_id = session.scalar(
        select(Value.id)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id == sub.id, Indicator.code == "1.c")
    )
    assert attach(client, sub.id, "sentencia.pdf", PDF, value_id).status_code == 303  # type: ignore[attr-defined]
    page = soup(client.get(f"/submissions/{sub.id}").text)
    assert page.select_one(".missing-evidence") is None
    assert page.select_one("tr.evidence-file[data-indicator='1.c']") is not None
