"""Machine submissions: a workbook through the import queue and the same report as JSON.

Both are checked by the workbook rules, stored all or nothing as versions, and answer
``mel import --json``'s object; the JSON answer names JSON pointers where a workbook names cells.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Category, CombinationMember, Dimension, Indicator, Partner
from mel.reports.models import NarrativeEntry, Submission, TrainingAttendance, TrainingEvent, Value
from tests.api_factory import bearer
from tests.parse_factory import COVER, TRAINING_HEADER, report, xlsx

SUBMIT = ("read", "submit")
# (indicator, sex, institution, region, value, comment): a total and a complete breakdown by sex
ROWS: list[tuple[str, str, str, str, float, str]] = [
    ("1.1.a", "", "", "", 30, "two courses"),
    ("1.1.a", "Female", "", "", 18, ""),
    ("1.1.a", "Male", "", "", 12, ""),
    ("1.1.a", "", "MPFN", "Cusco", 7, ""),
]
TRAININGS = [
    ["Prosecution course", "2021-08-12", "2021-08-14", "Prosecution", "Cusco", "Virtual", "MPFN", 12, 9],
    ["Victim care", "2021-09-01", "", "Protection", "Lima", "In-person", "PNP", 4, 6],
]
NARRATIVE = [["Section", "Text"], ["Achievements", "Two courses held."], ["Challenges", "Floods in Cusco."]]


def _workbook(period: str) -> bytes:
    cover = [[c[0], period] if c and c[0] == "Period" else c for c in COVER]
    rows = [[i, s, inst, r, v, c] for i, s, inst, r, v, c in ROWS]
    return xlsx(report(rows, cover=cover, Trainings=[TRAINING_HEADER, *TRAININGS], Narrative=NARRATIVE))


def _document(period: str, partner: str = "ilo") -> dict[str, Any]:
    values = []
    for ind, sex, inst, region, value, comment in ROWS:
        cats = {k: v for k, v in (("sex", sex), ("institution", inst), ("region", region)) if v}
        values.append({"indicator": ind, "categories": cats, "value": value, "comment": comment or None})
    keys = ["title", "start_date", "end_date", "pillar", "region", "modality", "institution", "female", "male"]
    trainings = [{k: (v if v != "" else None) for k, v in zip(keys, row, strict=True)} for row in TRAININGS]
    narrative = [{"section": s, "text": t} for s, t in NARRATIVE[1:]]
    return {
        "cover": {"partner": partner, "period": period},
        "values": values,
        "trainings": trainings,
        "narrative": narrative,
    }


def _stored(session: Session, submission_id: int) -> dict[str, Any]:
    """What a submission stored, in catalog codes (no ids, no cells)."""
    session.expire_all()
    values = set()
    for vid, code, number, comment in session.execute(
        select(Value.combination_id, Indicator.code, Value.value, Value.comment)
        .join(Indicator, Indicator.id == Value.indicator_id)
        .where(Value.submission_id == submission_id)
    ):
        cats = frozenset(
            session.execute(
                select(Dimension.code, Category.code)
                .select_from(CombinationMember)
                .join(Category, Category.id == CombinationMember.category_id)
                .join(Dimension, Dimension.id == CombinationMember.dimension_id)
                .where(CombinationMember.combination_id == vid)
            ).all()
        )
        values.add((code, cats, number, comment))
    trainings = set(
        session.execute(
            select(
                TrainingEvent.title,
                TrainingEvent.start_date,
                TrainingEvent.end_date,
                TrainingEvent.pillar,
                TrainingAttendance.female,
                TrainingAttendance.male,
            )
            .join(TrainingAttendance, TrainingAttendance.event_id == TrainingEvent.id)
            .where(TrainingEvent.submission_id == submission_id)
        ).all()
    )
    narrative = set(
        session.execute(
            select(NarrativeEntry.section, NarrativeEntry.text).where(NarrativeEntry.submission_id == submission_id)
        ).all()
    )
    return {"values": values, "trainings": trainings, "narrative": narrative}


def test_json_report_stores_the_same_as_the_workbook(client: TestClient, session: Session) -> None:
    headers = bearer(client, "partner", partner="ilo", scopes=SUBMIT)
    sent = client.post(
        "/api/v1/reports",
        headers=headers,
        data={"partner": "ilo", "period": "2021Q3"},
        files={"file": ("ilo-2021Q3.xlsx", _workbook("2021Q3"))},
    )
    assert sent.status_code == 201, sent.text
    from_workbook = sent.json()
    assert from_workbook["status"] == "accepted" and from_workbook["version"] == 1
    assert len(from_workbook["values"]) == len(ROWS) and len(from_workbook["trainings"]) == len(TRAININGS)
    # the same report of ilo's sub-recipient idl, as JSON (a prime's token reports for its sub-recipients)
    posted = client.post("/api/v1/reports/json", headers=headers, json=_document("2021Q3", "idl"))
    assert posted.status_code == 201, posted.text
    from_json = posted.json()
    assert from_json["status"] == "accepted" and from_json["partner"] == "idl"
    for key in ("values", "trainings", "narrative"):
        assert from_json[key] == from_workbook[key], key
    workbook_rows = _stored(session, from_workbook["submission_id"])
    json_rows = _stored(session, from_json["submission_id"])
    assert json_rows == workbook_rows
    assert len(workbook_rows["values"]) == len(ROWS) and workbook_rows["values"]
    expected = {("1.1.a", frozenset(), 30.0, "two courses"), ("1.1.a", frozenset({("sex", "female")}), 18.0, None)}
    assert expected <= json_rows["values"]
    # the JSON submission's values cite their pointers, and a resend is recognized
    cells = set(session.scalars(select(Value.cell).where(Value.submission_id == from_json["submission_id"])))
    assert cells == {f"/values/{n}" for n in range(len(ROWS))}
    again = client.post("/api/v1/reports/json", headers=headers, json=_document("2021Q3", "idl"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    # a changed report is version 2; version 1 stays, superseded
    changed = _document("2021Q3", "idl")
    changed["values"][0]["value"] = 31
    changed["values"].append({"indicator": "1.1.a", "categories": {"region": "lima"}, "value": 1})
    newer = client.post("/api/v1/reports/json", headers=headers, json=changed)
    assert newer.status_code == 201 and newer.json()["version"] == 2, newer.text
    old = session.get(Submission, from_json["submission_id"])
    session.refresh(old)  # type: ignore[arg-type]
    assert old is not None and old.status == "superseded"
    listed = client.get("/api/v1/submissions", headers=headers, params={"partner": "idl"}).json()["data"]
    assert [(s["version"], s["status"]) for s in listed] == [(1, "superseded"), (2, "submitted")]
    detail = client.get(f"/api/v1/submissions/{newer.json()['submission_id']}", headers=headers).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2] and detail["values"] == len(ROWS) + 1


def test_json_errors_use_the_workbook_codes_with_pointers(client: TestClient, session: Session) -> None:
    headers = bearer(client, "partner", partner="ilo", scopes=SUBMIT)
    doc = _document("2021Q3")
    doc["values"][1]["value"] = "1.250"  # ambiguous_number
    doc["values"][2]["categories"] = {"sex": "robot"}  # unknown_category
    doc["values"].append({"indicator": "9.9.z", "value": 1})  # unknown_indicator
    doc["values"].append({"indicator": "1.1.a", "categories": {"colour": "red"}, "value": 1})
    doc["trainings"][0]["start_date"] = "2020-01-01"  # date_outside_period
    doc["cover"]["period"] = "2021Q9"
    answer = client.post("/api/v1/reports/json", headers=headers, json=doc)
    assert answer.status_code == 422
    errors = {(e["code"], e["pointer"]) for e in answer.json()["errors"]}
    assert {
        ("bad_period", "/cover/period"),
        ("unknown_category", "/values/2/categories/sex"),
        ("unknown_indicator", "/values/4/indicator"),
        ("dimension_not_used", "/values/5/categories/colour"),
    } <= errors, errors
    assert all("sheet" not in e and "cell" not in e for e in answer.json()["errors"])
    doc["cover"]["period"] = "2021Q3"
    answer = client.post("/api/v1/reports/json", headers=headers, json=doc)
    codes = {(e["code"], e["pointer"]) for e in answer.json()["errors"]}
    assert ("ambiguous_number", "/values/1/value") in codes
    assert ("date_outside_period", "/trainings/0/start_date") in codes
    # the same mistakes in a workbook: the same codes
    assert session.scalar(select(Submission.id)) is None, "a rejected report stored something"
    spanish = client.post("/api/v1/reports/json?lang=es", headers=headers, json=doc).json()
    assert spanish["errors"][0]["message"] != answer.json()["errors"][0]["message"]


def test_json_refusals(client: TestClient, session: Session) -> None:
    chs = bearer(client, "partner", partner="chs", scopes=SUBMIT)
    foreign = client.post("/api/v1/reports/json", headers=chs, json=_document("2021Q3"))
    assert foreign.status_code == 422
    assert ("not_allowed", "/cover/partner") in {(e["code"], e["pointer"]) for e in foreign.json()["errors"]}
    broken = client.post(
        "/api/v1/reports/json", headers=chs, json={"cover": {"partner": "chs"}, "values": "x", "extra": 1}
    )
    assert broken.status_code == 422
    pointers = {e["pointer"] for e in broken.json()["errors"] if e["code"] == "invalid_json"}
    assert {"/cover/period", "/values", "/extra"} <= pointers
    garbage = client.post("/api/v1/reports/json", headers={**chs, "Content-Type": "application/json"}, content=b"{nope")
    assert garbage.status_code == 422 and garbage.json()["errors"][0]["code"] == "invalid_json"
    read_only = bearer(client, "officer")
    assert client.post("/api/v1/reports/json", headers=read_only, json=_document("2021Q3")).status_code == 403
    officer = bearer(client, "officer", scopes=SUBMIT)
    dry = client.post("/api/v1/reports/json?dry_run=true", headers=officer, json=_document("2021Q3"))
    assert dry.status_code == 200 and dry.json()["status"] == "accepted" and dry.json()["dry_run"] is True
    assert session.scalar(select(Submission.id)) is None
    # a workbook for another organization is refused before it is read, as on the upload page
    other = client.post(
        "/api/v1/reports",
        headers=chs,
        data={"partner": "ilo"},
        files={"file": ("x.xlsx", _workbook("2021Q3"))},
    )
    assert other.status_code == 404


@pytest.mark.parametrize("wait", [0])
def test_a_slow_workbook_answers_202_with_its_job(client: TestClient, wait: int) -> None:
    headers = bearer(client, "officer", scopes=SUBMIT)
    sent = client.post(
        f"/api/v1/reports?wait={wait}",
        headers=headers,
        data={"partner": "ilo", "period": "2021Q3"},
        files={"file": ("ilo.xlsx", _workbook("2021Q3"))},
    )
    assert sent.status_code in (201, 202), sent.text
    if sent.status_code == 202:
        job = sent.json()["job"]
        deadline = dt.datetime.now() + dt.timedelta(seconds=120)
        while True:  # a client polls at a pace the token's throttle allows
            polled = client.get(f"/api/v1/reports/jobs/{job}", headers=headers)
            if polled.status_code != 202 or dt.datetime.now() > deadline:
                break
            time.sleep(1.0)
        assert polled.status_code == 201, polled.text
        assert polled.json()["status"] == "accepted" and len(polled.json()["values"]) == len(ROWS)
        # another token's user cannot see the job
        stranger = bearer(client, "admin", scopes=SUBMIT)
        assert client.get(f"/api/v1/reports/jobs/{job}", headers=stranger).status_code == 404
    assert Partner  # the catalog is loaded


def test_a_json_report_is_kept_and_served_as_json(client: TestClient, login_as: Any) -> None:
    headers = bearer(client, "partner", partner="ilo", scopes=SUBMIT)
    sent = client.post("/api/v1/reports/json", headers=headers, json=_document("2021Q3"))
    assert sent.status_code == 201
    viewer = login_as(client, "partner", partner="ilo")
    original = viewer.get(f"/submissions/{sent.json()['submission_id']}/file")
    assert original.status_code == 200 and original.headers["content-type"].startswith("application/json")
    assert original.json()["cover"] == {"partner": "ilo", "period": "2021Q3", "prepared_by": None, "date": None}
    assert ".json" in original.headers["content-disposition"]
