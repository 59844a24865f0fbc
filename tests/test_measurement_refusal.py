"""Issue 12: only officers, admins and evaluators (and the command line) import measurement workbooks.

A partner's upload of one is refused with ``not_allowed``, nothing is stored, the attempt is audited;
staff uploads still work, and their result page says the measurements count at once.
"""

from __future__ import annotations

from collections.abc import Callable

from bs4 import BeautifulSoup
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mel.auth.service import create_user
from mel.core.audit import CLI, Actor, AuditEntry
from mel.core.settings import Settings
from mel.reports.files import sha256_of
from mel.reports.models import Measurement, StoredFile
from mel.reports.service import import_workbook
from tests.parse_factory import xlsx
from tests.report_factory import finish, issues, upload

Login = Callable[..., TestClient]
HEADER = ["Indicator", "Round", "Date", "Value", "Source", "Partnership"]
REFUSED = (
    "Only program officers, administrators and evaluators import measurement workbooks (baselines and endlines). "
    "Upload your quarterly report instead, or send this file to your program officer."
)


def forged(partnership: str = "peru-cpc", value: int = 1) -> bytes:
    return xlsx({"Measurements": [HEADER, ["IMP.a", "Baseline", 2017, value, "forged", partnership]]})


def measurements(session: Session) -> list[tuple[str | None, float]]:
    session.expire_all()
    return [tuple(r) for r in session.execute(select(Measurement.source, Measurement.value).order_by(Measurement.id))]


def stored(session: Session, data: bytes) -> bool:
    session.expire_all()
    return session.get(StoredFile, sha256_of(data)) is not None


def refusals(session: Session) -> list[tuple[str, str | None]]:
    session.expire_all()
    rows = session.execute(
        select(AuditEntry.actor, AuditEntry.summary).where(AuditEntry.action == "measurement.refused")
    )
    return [tuple(r) for r in rows]


def error_messages(page: BeautifulSoup) -> list[str]:
    return [td.get_text(strip=True) for td in page.select("table.issues[data-table='errors'] td.message")]


def test_partner_upload_of_measurements_is_refused(
    client: TestClient, login_as: Login, session: Session, settings: Settings
) -> None:
    login_as(client, "partner", partner="chs", email="chs@example.org")
    data = forged()
    page = finish(client, upload(client, data, partner="chs"))
    assert page.select_one(".import-result")["data-status"] == "rejected"  # type: ignore[index]
    assert issues(page) == {("—", "—", "not_allowed")}
    assert error_messages(page) == [REFUSED]
    assert "awaits review" not in page.get_text()
    assert measurements(session) == []
    assert not stored(session, data)
    assert [f for f in settings.upload_dir.rglob("*") if f.is_file()] == []
    assert refusals(session) == [("chs@example.org", "partner may not import measurements (report.xlsx)")]


def test_refusal_is_translated(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="chs", email="chs@example.org")
    client.cookies.set("mel_lang", "es")
    page = finish(client, upload(client, forged(value=2), partner="chs"))
    assert issues(page) == {("—", "—", "not_allowed")}
    [message] = error_messages(page)
    assert message.startswith("Solo los oficiales de programa, los administradores y los evaluadores importan")
    assert measurements(session) == []


def test_partner_cannot_import_for_another_partnership(client: TestClient, login_as: Login, session: Session) -> None:
    login_as(client, "partner", partner="ilo", email="ilo@example.org")
    page = finish(client, upload(client, forged("philippines-cpc"), partner="ilo"))
    assert issues(page) == {("—", "—", "not_allowed")}
    assert measurements(session) == []
    assert len(refusals(session)) == 1


def test_officer_upload_counts_at_once_and_a_partner_copy_is_still_refused(
    client: TestClient, login_as: Login, session: Session
) -> None:
    login_as(client, "officer", email="officer@example.org")
    data = forged(value=1480)
    page = finish(client, upload(client, data, partner="ilo"))
    result = page.select_one(".import-result")
    assert result is not None and result["data-status"] == "accepted"
    assert result.select_one("h3").get_text(strip=True) == "Measurements stored"  # type: ignore[union-attr]
    assert result.select_one(".measurements-count").get_text(strip=True) == "1"  # type: ignore[union-attr]
    assert "awaits review" not in result.get_text() and result.select_one("a.submission-link") is None
    assert measurements(session) == [("forged", 1480.0)]
    assert stored(session, data)
    # the very same file from a partner is refused too, not reported as "already imported"
    login_as(client, "partner", partner="chs", email="chs@example.org")
    again = finish(client, upload(client, data, partner="chs"))
    assert issues(again) == {("—", "—", "not_allowed")}
    assert "already imported" not in again.get_text()
    assert len(refusals(session)) == 1


def test_evaluator_and_command_line_imports_work(session: Session, settings: Settings) -> None:
    evaluator = create_user(
        session=session, email="ev@example.org", password="long-enough-pw", role="evaluator", actor=CLI
    )
    as_evaluator = Actor(evaluator.email, evaluator.id, "10.0.0.1", role="evaluator")
    first = import_workbook(
        session=session, data=forged(value=7), filename="e.xlsx", settings=settings, actor=as_evaluator
    )
    assert first.status == "accepted" and first.errors == [] and first.batch_id is not None
    cli = import_workbook(session=session, data=forged(value=8), filename="c.xlsx", settings=settings, actor=CLI)
    assert cli.status == "accepted" and cli.errors == []
    assert measurements(session) == [("forged", 8.0)]  # the later import replaces the earlier one
    # a logged-in account whose role is unknown is refused (default deny)
    nameless = Actor("someone@example.org", evaluator.id, "10.0.0.2")
    refused = import_workbook(
        session=session, data=forged(value=9), filename="n.xlsx", settings=settings, actor=nameless
    )
    assert refused.status == "rejected" and [e.code for e in refused.errors] == ["not_allowed"]
    assert session.scalar(select(func.count()).select_from(Measurement)) == 1
