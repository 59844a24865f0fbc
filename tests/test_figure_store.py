"""Stored figures: a partnership's data version moves with every committed change to its figures, in
the same transaction, and pages read stored figures per viewer without ever showing stale or
another viewer's numbers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker

from mel.auth.service import create_user
from mel.catalog.models import Indicator, Partner, Partnership, Target
from mel.core.audit import CLI, Actor
from mel.core.db import transaction
from mel.core.settings import Settings
from mel.core.versions import FigureVersion
from mel.reports.models import Submission, Value
from mel.reports.report_rows import VALUE_COLUMNS, bulk_insert
from mel.reports.review import review_submission
from mel.results.store import STORE, FigureStore, stored
from tests.html_soup import soup
from tests.test_disclosure_matrix import DB_SCENARIOS, NAMES, _iptt_cells, sensitive  # noqa: F401 (the fixture, its values)
from tests.value_factory import add_submission

Login = Callable[..., TestClient]
Factory = sessionmaker[Session]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The figure store on its own: every request renders its page (no page store in front of it)."""
    return settings.model_copy(update={"page_store_mb": 0})


def versions(factory: Factory) -> dict[str, tuple[int, str]]:
    with factory() as session:
        rows = session.execute(
            select(Partnership.code, FigureVersion.version, FigureVersion.stamp).join(
                FigureVersion, FigureVersion.partnership_id == Partnership.id
            )
        ).all()
    return {code: (version, stamp) for code, version, stamp in rows}


def moved(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]) -> set[str]:
    """The partnerships whose version went up by one with a new stamp."""
    out = set()
    for code, (version, stamp) in after.items():
        if (version, stamp) != before[code]:
            assert version == before[code][0] + 1 and stamp != before[code][1], (code, before[code], after[code])
            out.add(code)
    return out


def test_every_partnership_has_a_version(session_factory: Factory) -> None:
    found = versions(session_factory)
    with session_factory() as session:
        codes = set(session.scalars(select(Partnership.code)))
    assert set(found) == codes and {"peru-cpc", "philippines-cpc"} <= codes
    assert all(version >= 1 and len(stamp) == 32 for version, stamp in found.values())  # loaded: changed once


def test_a_report_moves_its_partnership_only(session_factory: Factory) -> None:
    before = versions(session_factory)
    with transaction(session_factory) as session:
        add_submission(session, partner="ilo", period="2019Q1", values=[("2.a", {}, 9)])
    assert moved(before, versions(session_factory)) == {"peru-cpc"}


def test_a_rolled_back_change_moves_nothing(session_factory: Factory) -> None:
    before = versions(session_factory)
    with session_factory() as session:
        add_submission(session, partner="ilo", period="2019Q1", values=[("2.a", {}, 9)])
        session.rollback()
    assert versions(session_factory) == before


def test_accounts_and_the_audit_log_move_nothing(session_factory: Factory) -> None:
    before = versions(session_factory)
    with transaction(session_factory) as session:  # a user row, an audit entry: no figure
        create_user(session=session, email="someone@example.org", password="a-long-password", role="officer", actor=CLI)
    assert versions(session_factory) == before


def test_an_approval_moves_its_partnership(session_factory: Factory) -> None:
    with transaction(session_factory) as session:
        sub = add_submission(session, partner="ilo", period="2019Q2", values=[("2.a", {}, 7)], status="submitted")
        officer = create_user(
            session=session, email="officer@example.org", password="a-long-password", role="officer", actor=CLI
        )
        sub_id, officer_id = sub.id, officer.id
    before = versions(session_factory)
    with transaction(session_factory) as session:
        review_submission(
            session=session,
            submission_id=sub_id,
            action="approved",
            comment=None,
            actor=Actor("officer@example.org", officer_id, "127.0.0.1", role="officer"),
        )
    assert moved(before, versions(session_factory)) == {"peru-cpc"}


def test_a_target_revised_in_place_moves_its_partnership(session_factory: Factory) -> None:
    before = versions(session_factory)
    with transaction(session_factory) as session:
        target = session.scalars(
            select(Target).join(Indicator).join(Partnership).where(Partnership.code == "philippines-cpc")
        ).first()
        assert target is not None
        target.value = target.value + 1
    assert moved(before, versions(session_factory)) == {"philippines-cpc"}


def test_a_bulk_update_moves_the_partnerships_it_touches(session_factory: Factory) -> None:
    with transaction(session_factory) as session:
        sub_id = add_submission(session, partner="ilo", period="2019Q3", values=[("2.a", {}, 3)]).id
    before = versions(session_factory)
    with transaction(session_factory) as session:
        session.execute(update(Submission).where(Submission.id == sub_id).values(status="returned"))
    assert moved(before, versions(session_factory)) == {"peru-cpc"}


def test_raw_sql_moves_every_partnership(session_factory: Factory) -> None:
    before = versions(session_factory)
    with transaction(session_factory) as session:
        session.execute(text("UPDATE indicator SET sensitive = sensitive"))
    assert moved(before, versions(session_factory)) == set(before)


def test_a_driver_level_bulk_insert_is_noted(session_factory: Factory) -> None:
    with transaction(session_factory) as session:
        sub = add_submission(session, partner="ilo", period="2019Q4", values=[("2.a", {}, 1)])
        sub_id, partner_id, combo = sub.id, sub.partner_id, session.scalars(select(Value.combination_id)).first()
        ind_id = session.scalars(
            select(Indicator.id)
            .join(Partner, Partner.partnership_id == Indicator.partnership_id)
            .where(Partner.id == partner_id, Indicator.code == "1.a")
        ).one()
    before = versions(session_factory)
    with transaction(session_factory) as session:  # below the session's statements, as the importer stores values
        row = (sub_id, ind_id, combo, partner_id, "2019Q4", 5.0, None, "Indicators", "F9", None, None)
        bulk_insert(session, Value.__table__, VALUE_COLUMNS, [row])
    assert moved(before, versions(session_factory)) == {"peru-cpc"}


def test_uncommitted_figures_are_never_stored(session_factory: Factory) -> None:
    store = FigureStore()
    with session_factory() as session:
        partnership_id = session.scalars(select(Partnership.id).where(Partnership.code == "peru-cpc")).one()
        add_submission(session, partner="ilo", period="2019Q1", values=[("2.a", {}, 9)])  # flushed, not committed
        assert stored(session, partnership_id, "test", None, (), lambda: "draft", store=store) == "draft"
        session.rollback()
    assert len(store) == 0
    with session_factory() as session:
        assert stored(session, partnership_id, "test", None, (), lambda: "committed", store=store) == "committed"
        assert stored(session, partnership_id, "test", None, (), lambda: "again", store=store) == "committed"
    assert (store.hits, len(store)) == (1, 1)


def _actual(client: TestClient, code: str) -> str:
    page = soup(client.get("/p/peru-cpc").text)
    row = page.select_one(f"tr.indicator[data-code='{code}']")
    assert row is not None, f"no dashboard line for {code}"
    return str(row["data-actual"])


def test_a_page_shows_a_change_at_once(client: TestClient, login_as: Login, session: Session) -> None:
    officer = login_as(client, "officer")
    add_submission(session, partner="ilo", period="2019Q1", values=[("2.a", {}, 9)])
    session.commit()
    assert float(_actual(officer, "2.a")) == 9
    hits = STORE.hits
    assert float(_actual(officer, "2.a")) == 9 and STORE.hits > hits  # the second view read stored figures
    add_submission(session, partner="chs", period="2019Q1", values=[("2.a", {}, 30)])
    session.commit()
    assert float(_actual(officer, "2.a")) == 39


def test_viewers_never_share_disclosed_figures(client: TestClient, login_as: Login, sensitive: None) -> None:  # noqa: F811
    names = {p: NAMES[p] for p in ("ilo", "chs")}
    params = {"granularity": "quarter", "expand": "2.a"}

    def cells() -> dict[tuple[str, str], object]:
        return _iptt_cells(soup(client.get("/p/peru-cpc/iptt", params=params).text), names)

    login_as(client, "officer")
    staff = cells()
    assert staff[("chs", "2019Q1")] == 2  # staff see small counts
    login_as(client, "evaluator")
    hits = STORE.hits
    for _ in range(2):  # computed once, then read from the store: hidden both times
        assert cells()[("chs", "2019Q1")] == "hidden"
    assert STORE.hits > hits
    login_as(client, "officer")
    assert cells() == staff


def test_the_portfolio_shows_a_framework_change_at_once(client: TestClient, login_as: Login, session: Session) -> None:
    """The portfolio's outlines are stored per data version: a renamed partnership or result shows on the
    next visit, and the visit after that reads the stored outline."""
    officer = login_as(client, "officer")
    assert "Renamed compact" not in officer.get("/").text
    hits = STORE.hits
    assert "Renamed compact" not in officer.get("/").text and STORE.hits > hits
    partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
    partnership.name = "Renamed compact"
    session.commit()
    page = officer.get("/").text
    assert "Renamed compact" in page
    hits = STORE.hits
    assert officer.get("/").text == page and STORE.hits > hits
