"""Ten real workbooks uploaded at the same moment: same partner and period, and different ones.

No version is lost or doubled: each partner and period has versions 1..n with exactly one current
(the last), and every accepted upload's values are stored once.
"""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from mel.core.audit import Actor
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.service import import_workbook
from mel.workbooks.report_writer import IndicatorRow, Report, write_report
from mel.workbooks.spec import partner_spec

UPLOADS = (
    [("ilo", "2021Q3")] * 5 + [("ilo", "2021Q4"), ("chs", "2021Q3"), ("idl", "2021Q3")] + [("aba-roli", "2021Q3")] * 2
)
INDICATOR = {"ilo": "4.a", "chs": "2.2.a", "idl": "1.1.a", "aba-roli": "1.2.a"}


def test_simultaneous_uploads_keep_one_version_sequence(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    books: list[tuple[str, str, bytes]] = []
    with session_factory() as session:
        for n, (partner, period) in enumerate(UPLOADS):
            spec = partner_spec(session, partner_code=partner, period=period)
            report = Report(partner, period, [IndicatorRow(INDICATOR[partner], 10 + n)])
            books.append((partner, period, write_report(report, spec.dimensions, spec.lang)))
    results: list[ImportResult] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(books))

    def upload(partner: str, period: str, data: bytes, n: int) -> None:
        try:
            barrier.wait()
            with session_factory() as session, session.begin():
                results.append(
                    import_workbook(
                        session=session,
                        data=data,
                        filename=f"{partner}-{period}-{n}.xlsx",
                        settings=settings,
                        partner_code=partner,
                        period=period,
                        actor=Actor(f"uploader {n}"),
                    )
                )
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=upload, args=(*book, n)) for n, book in enumerate(books)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert [r.status for r in results] == ["accepted"] * len(books)

    expected = Counter(UPLOADS)
    with session_factory() as session:
        rows = session.execute(
            text(
                """SELECT p.code, s.period, s.version, s.status,
                          (SELECT count(*) FROM value v WHERE v.submission_id = s.id)
                   FROM submission s JOIN partner p ON p.id = s.partner_id
                   ORDER BY p.code, s.period, s.version"""
            )
        ).all()
    seen: dict[tuple[str, str], list[tuple[int, str, int]]] = {}
    for code, period, version, status, values in rows:
        seen.setdefault((code, period), []).append((version, status, values))
    assert set(seen) == set(expected)
    for key, count in expected.items():
        versions = seen[key]
        assert [v for v, _s, _n in versions] == list(range(1, count + 1)), key
        assert [s for _v, s, _n in versions] == ["superseded"] * (count - 1) + ["submitted"], key
        assert all(n == 1 for _v, _s, n in versions), key
    assert sorted(r.version or 0 for r in results if (r.partner, r.period) == ("ilo", "2021Q3")) == [1, 2, 3, 4, 5]
