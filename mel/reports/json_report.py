"""A quarterly report sent as JSON (``POST /api/v1/reports/json``), checked by the workbook rules.

The document is laid out as the sheets a template would hold (Cover, Indicators, Trainings,
Narrative), in memory, and handed to the same parser as an uploaded workbook: one set of rules and
error codes. Where the parser names a sheet and a cell, the answer names a JSON pointer into the
document instead (``/values/3/value``). Stored values cite their pointer (sheet ``json``), and the
canonical document is kept as the submission's original file, so a resend is recognized.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from mel.core.audit import Actor
from mel.core.i18n import LANGUAGES, t
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.parse import parse_workbook
from mel.reports.parse_results import Issue
from mel.reports.service import import_parsed
from mel.workbooks.book import Sheet, Workbook, cell_name

JSON_SHEET = "json"
CELL = re.compile(r"\b[A-Z]{1,3}[0-9]+\b")
Cell = str | int | float | bool | None


class Cover(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(description="Partner code or name, as on a workbook's Cover.")
    period: str = Field(description="Calendar quarter, e.g. 2021Q3.")
    prepared_by: str | None = None
    date: str | None = Field(default=None, description="yyyy-mm-dd")


class ValueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator: str
    categories: dict[str, str] = Field(default_factory=dict, description="dimension -> category; {} for the total.")
    value: Cell = None
    comment: str | None = None


class TrainingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Cell = None
    start_date: Cell = None
    end_date: Cell = None
    pillar: Cell = None
    region: Cell = None
    modality: Cell = None
    institution: Cell = None
    female: Cell = None
    male: Cell = None
    other: Cell = None
    under_18: Cell = None
    hours: Cell = None
    pre_score: Cell = None
    post_score: Cell = None


class NarrativeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str
    text: str


class ReportIn(BaseModel):
    """A quarterly report: the content of the workbook's four sheets."""

    model_config = ConfigDict(extra="forbid")
    cover: Cover
    values: list[ValueIn] = Field(default_factory=list)
    trainings: list[TrainingIn] = Field(default_factory=list)
    narrative: list[NarrativeIn] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="Why, when a version of this report is already approved.")


TRAINING_FIELDS = list(TrainingIn.model_fields)


@dataclass
class Layout:
    """The sheets built from a document and, for every cell, the JSON pointer it came from."""

    workbook: Workbook
    pointers: dict[tuple[str, str], str] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    category_columns: dict[str, str] = field(default_factory=dict)
    """Header cell of a categories key -> pointer of its first use."""

    def pointer(self, issue: Issue) -> str:
        if not issue.sheet:
            return ""
        return self.pointers.get((issue.sheet, issue.cell)) or self.sheets.get(issue.sheet, "")


def _cell(value: Cell) -> Any:
    """What calamine would have given: floats for numbers, '' for empty, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return float(value)
    return value


def layout(report: ReportIn) -> Layout:
    """The document as the four sheets of a report template, with pointers back into it."""
    out = Layout(Workbook([]))
    cover = report.cover
    pairs = [("Partner", "partner", cover.partner), ("Period", "period", cover.period)]
    if cover.prepared_by is not None:
        pairs.append(("Prepared by", "prepared_by", cover.prepared_by))
    if cover.date is not None:
        pairs.append(("Date", "date", cover.date))
    rows: list[list[Any]] = []
    for r, (label, key, value) in enumerate(pairs):
        rows.append([label, _cell(value)])
        out.pointers[("Cover", cell_name(r, 1))] = f"/cover/{key}"
        out.pointers[("Cover", cell_name(r, 0))] = f"/cover/{key}"
    out.workbook.sheets.append(Sheet("Cover", rows))
    out.sheets["Cover"] = "/cover"

    dims: list[str] = []
    for v in report.values:
        dims += [d for d in v.categories if d not in dims]
    header = ["indicator", *dims, "value", "comment"]
    rows = [header]
    for c, dim in enumerate(dims, start=1):
        first = next(i for i, v in enumerate(report.values) if dim in v.categories)
        out.category_columns[cell_name(0, c)] = f"/values/{first}/categories/{_escape(dim)}"
        out.pointers[("Indicators", cell_name(0, c))] = out.category_columns[cell_name(0, c)]
    for i, v in enumerate(report.values):
        r = i + 1
        rows.append([v.indicator, *(v.categories.get(d, "") for d in dims), _cell(v.value), v.comment or ""])
        for c, name in enumerate(header):
            where = f"categories/{_escape(name)}" if 0 < c <= len(dims) else name
            out.pointers[("Indicators", cell_name(r, c))] = f"/values/{i}/{where}"
    out.workbook.sheets.append(Sheet("Indicators", rows))
    out.sheets["Indicators"] = "/values"

    if report.trainings:
        rows = [TRAINING_FIELDS]
        for i, tr in enumerate(report.trainings):
            rows.append([_cell(getattr(tr, f)) for f in TRAINING_FIELDS])
            for c, name in enumerate(TRAINING_FIELDS):
                out.pointers[("Trainings", cell_name(i + 1, c))] = f"/trainings/{i}/{name}"
        out.workbook.sheets.append(Sheet("Trainings", rows))
        out.sheets["Trainings"] = "/trainings"
    if report.narrative:
        rows = [["section", "text"]]
        for i, n in enumerate(report.narrative):
            rows.append([n.section, n.text])
            out.pointers[("Narrative", cell_name(i + 1, 0))] = f"/narrative/{i}/section"
            out.pointers[("Narrative", cell_name(i + 1, 1))] = f"/narrative/{i}/text"
        out.workbook.sheets.append(Sheet("Narrative", rows))
        out.sheets["Narrative"] = "/narrative"
    return out


def _escape(key: str) -> str:
    """A JSON pointer reference token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


def canonical(report: ReportIn) -> bytes:
    """The document as stored: sorted keys, no reason (a resend with a reason is the same report)."""
    body = report.model_dump(mode="json", exclude={"reason"}, exclude_none=False)
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class JsonImport:
    """The result of a JSON submission and the pointer of each of its issues."""

    result: ImportResult
    pointers: dict[int, str] = field(default_factory=dict)

    cells: dict[tuple[str, str], str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """``mel import --json``'s object, with ``pointer`` in place of ``sheet`` and ``cell``.

        Messages that name other cells of the laid-out sheet (``already in D2``) name their pointers.
        """
        body = self.result.as_json()
        for key in ("errors", "warnings", "infos"):
            body[key] = [
                {"code": i.code, "pointer": self.pointers.get(id(i), ""), "message": self._message(i)}
                for i in getattr(self.result, key)
            ]
        return body

    def _message(self, issue: Issue) -> str:
        def pointer(match: re.Match[str]) -> str:
            return self.cells.get((issue.sheet, match.group(0)), match.group(0))

        return CELL.sub(pointer, issue.message) if issue.sheet else issue.message


def invalid_json(error: ValidationError | ValueError, lang: str) -> JsonImport:
    """A body that is not a report document: one ``invalid_json`` error per problem, nothing read."""
    result = ImportResult("rejected")
    pointers: dict[int, str] = {}
    problems = error.errors() if isinstance(error, ValidationError) else [{"loc": (), "msg": str(error)}]
    for problem in problems[:100]:
        pointer = "".join(f"/{_escape(str(p))}" for p in problem["loc"])
        issue = Issue(
            "invalid_json",
            "",
            "",
            t(
                lang,
                "The document does not follow the report format at {pointer}: {problem}.",
                pointer=pointer or "/",
                problem=problem["msg"],
            ),
        )
        result.errors.append(issue)
        pointers[id(issue)] = pointer
    return JsonImport(result, pointers)


def import_json_report(
    *,
    session: Session,
    report: ReportIn,
    settings: Settings,
    actor: Actor,
    lang: str = "en",
    dry_run: bool = False,
    partner_ids: frozenset[int] | None = None,
) -> JsonImport:
    """Check ``report`` with the workbook rules and, unless rejected or ``dry_run``, store it as a new version.

    ``partner_ids``: the partners the sender may report for (a partner user's own); None for staff.
    """
    lang = lang if lang in LANGUAGES else "en"
    laid = layout(report)
    parsed = parse_workbook(session, laid.workbook, lang=lang)
    pointers: dict[int, str] = {}
    for issue in list(parsed.errors):
        pointers[id(issue)] = laid.pointer(issue)
    infos = []
    for issue in parsed.infos:
        pointer = laid.category_columns.get(issue.cell) if issue.sheet == "Indicators" else None
        if issue.code == "ignored_column" and pointer:
            dim = pointer.rsplit("/", 1)[-1]
            error = Issue(
                "dimension_not_used",
                issue.sheet,
                issue.cell,
                t(
                    lang,
                    "{dimension} is not a dimension of this partnership: use the dimension codes of the catalog.",
                    dimension=dim,
                ),
            )
            parsed.errors.append(error)
            pointers[id(error)] = pointer
            continue
        pointers[id(issue)] = laid.pointer(issue)
        infos.append(issue)
    parsed.infos = infos
    if partner_ids is not None and parsed.partner_id is not None and parsed.partner_id not in partner_ids:
        refused = Issue(
            "not_allowed",
            "Cover",
            "B1",
            t(
                lang,
                "Your account does not report for {partner}: send your own organization's reports.",
                partner=parsed.partner,
            ),
        )
        parsed.errors.append(refused)
        pointers[id(refused)] = "/cover/partner"
    for n, value in enumerate(parsed.values):
        found = laid.pointers.get(("Indicators", value.cell))
        value.sheet, value.cell = JSON_SHEET, found.rsplit("/", 1)[0] if found else f"/values/{n}"
    for tr in parsed.trainings:
        tr.sheet, tr.row = JSON_SHEET, tr.row - 2  # the layout's row r + 1 holds trainings[r - 1]
    data = canonical(report)
    name = f"{parsed.partner or 'report'}-{parsed.period or 'period'}.json"
    result = import_parsed(
        session=session,
        parsed=parsed,
        data=data,
        filename=name,
        settings=settings,
        actor=actor,
        dry_run=dry_run,
        reason=report.reason,
    )
    for issue in [*result.errors, *result.warnings, *result.infos]:
        if id(issue) not in pointers:
            pointers[id(issue)] = laid.pointer(issue) if issue.sheet != JSON_SHEET else issue.cell
    return JsonImport(result, pointers, laid.pointers)
