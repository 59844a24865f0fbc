"""The IPTT page and its XLSX download: parse the filters, call ``mel.results.iptt``, render."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import cache
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from mel.auth.identity import CurrentUser
from mel.catalog.models import LEVELS, PILLARS, Partnership
from mel.catalog.stages import Scale
from mel.core.i18n import format_number, t
from mel.core.periods import parse_quarter, quarter_of, quarters
from mel.exports.iptt_xlsx import iptt_xlsx
from mel.results.disclosure import mark, viewer_of, visible_partners
from mel.results.disclosure.iptt import disclose_iptt
from mel.results.iptt import GRANULARITIES, Iptt, IpttRow, iptt_table
from mel.results.store import stored
from mel.web.deps import AnyUser, SessionDep
from mel.web.render import render
from mel.web.routes.indicators import partner_or_404
from mel.web.routes.progress import common, partnership_or_404

router = APIRouter()


@dataclass(frozen=True)
class Filters:
    granularity: str
    pillar: str | None
    level: str | None
    partner: str | None
    first: str | None
    last: str | None
    provisional: bool

    def query(self) -> str:
        params = {
            "granularity": self.granularity,
            "pillar": self.pillar or "",
            "level": self.level or "",
            "partner": self.partner or "",
            "from": self.first or "",
            "to": self.last or "",
            "provisional": "1" if self.provisional else "",
        }
        return urlencode({k: v for k, v in params.items() if v})


def _filters(
    user: CurrentUser,
    granularity: str,
    pillar: str | None,
    level: str | None,
    partner: str | None,
    first: str | None,
    last: str | None,
    provisional: str | None,
) -> Filters:
    return Filters(
        granularity=granularity if granularity in GRANULARITIES else "fy",
        pillar=pillar if pillar in (*PILLARS, "cross-cutting") else None,
        level=level if level in LEVELS else None,
        partner=partner or None,
        first=parse_quarter(first) if first else None,
        last=parse_quarter(last) if last else None,
        provisional=viewer_of(user, provisional=provisional).provisional,
    )


def _table(
    session: Session,
    request: Request,
    partnership: Partnership,
    user: CurrentUser,
    f: Filters,
    expand: Collection[str] | None = None,
    *,
    download: bool = False,
) -> Iptt:
    """The IPTT as ``user`` may see it; a download always suppresses small cells, as every export does."""
    chosen = partner_or_404(partnership, user, f.partner)
    viewer = viewer_of(user, provisional=f.provisional)
    if download:
        viewer = replace(viewer, suppress=True)
    scope = viewer.scope(partner_ids=[chosen.id] if chosen else None, first=f.first, last=f.last)
    # the disaggregation of a sensitive indicator takes part in its protection even when collapsed
    computed = (
        None
        if expand is None
        else {*expand, *(i.code for r in partnership.results for i in r.indicators if viewer.hides(i.sensitive))}
    )
    table = iptt_table(
        session,
        partnership,
        scope,
        granularity=f.granularity,
        lang=request.state.lang,
        pillar=f.pillar,
        level=f.level,
        expand=computed,
    )
    return disclose_iptt(table, viewer, expanded=expand)


def expand_links(f: Filters, expanded: list[str], table: Iptt) -> dict[str, str]:
    """Per indicator not yet expanded, the query that also shows its disaggregation rows."""
    base = [(k, v) for k, v in parse_qsl(f.query())] + [("expand", code) for code in expanded]
    return {
        row.indicator: urlencode([*base, ("expand", row.indicator)])
        for row in table.rows
        if row.expandable and not row.expanded
    }


@dataclass(frozen=True)
class Shown:
    """One IPTT cell as the page prints it (formatted once here: the quarterly table has thousands)."""

    col: str
    target: str
    actual: str
    value: str  # the raw actual for data attributes, '' when none
    pct: str
    provisional: bool
    deviation: str = ""  # over | under: outside 100 ± 10 % of target
    explanation: str = ""  # the partners' comments, or '' when none was given
    as_of: str = ""  # a latest value carried from this earlier quarter
    counts: str = ""  # a pooled rate's numerator / denominator
    original: str = ""  # the original target of a revised one


def shown_value(value: float | None, unit: str, lang: str, scale: Scale | None = None) -> str:
    """A figure as the viewer reads numbers (``1,480`` / ``1.480``); a stage by its level's name."""
    if value is None:
        return "—"
    if unit == "stage" and scale is not None:
        return scale.label(value, lang) or format_number(value, lang, 0)
    if unit == "percent":
        return f"{format_number(value, lang, 1)} %"
    if unit == "yes_no":
        return t(lang, "yes") if value >= 1 else t(lang, "no")
    return format_number(value, lang, 0 if float(value).is_integer() else 1)


def shown_cells(table: Iptt, row: IpttRow, lang: str) -> list[Shown]:
    """Formatted cells; cells the disclosure gate hid read '<5' (small) or 'x' (protecting one)."""
    cols = [b.label for b in table.buckets] + ["LOP"]
    scale = Scale.of(row.levels)
    out = []
    for col, cell in zip(cols, [*row.cells, row.lop], strict=True):
        per_partner = cell.actual is None and cell.partners > 1
        if cell.hidden:
            target = shown_value(cell.target, row.unit, lang, scale) if row.kind == "indicator" else ""
            out.append(
                Shown(col=col, target=target, actual=mark(cell.hidden), value="", pct="", provisional=cell.provisional)
            )
            continue
        pct = cell.pct_of_target
        counts = ""
        if cell.numerator is not None and cell.denominator is not None:
            counts = f"{format_number(cell.numerator, lang)} / {format_number(cell.denominator, lang)}"
        out.append(
            Shown(
                col=col,
                target=shown_value(cell.target, row.unit, lang, scale)
                if row.kind == "indicator" or cell.target is not None  # a partner's or category's own target
                else "",
                actual=t(lang, "per partner") if per_partner else shown_value(cell.actual, row.unit, lang, scale),
                value="" if cell.actual is None else repr(float(cell.actual)),
                pct=f"{format_number(pct, lang, 1)} %" if pct is not None else ("—" if row.kind == "indicator" else ""),
                provisional=cell.provisional,
                deviation=(cell.deviation or "") if row.kind == "indicator" else "",
                explanation=cell.explanation or "",
                as_of=cell.as_of or "",
                counts=counts,
                original=shown_value(cell.original_target, row.unit, lang, scale)
                if cell.original_target is not None
                else "",
            )
        )
    return out


@cache
def _cell_words(lang: str) -> tuple[Markup, dict[str, str]]:
    """The words every IPTT cell may carry, translated once per language (a table has thousands)."""
    mark = Markup(' <abbr class="provisional" title="{}">{}</abbr>').format(
        t(lang, "Includes reports awaiting review"), t(lang, "provisional")
    )
    words = {
        "over": t(lang, "more than 10 percent above the target"),
        "under": t(lang, "more than 10 percent below the target"),
        "none": t(lang, "No explanation given yet"),
        "as_of": t(lang, "as of"),
        "original": t(lang, "original target"),
    }
    return mark, words


def cells_html(cells: list[Shown], *, child: bool, lang: str) -> Markup:
    """The period cells of one table row as HTML, built here in one pass: the quarterly IPTT has
    tens of thousands of cells, and a template loop per cell is what made the page slow."""
    mark, words = _cell_words(lang)
    parts = []
    for c in cells:
        col, actual = escape(c.col), escape(c.actual)
        flag = mark if c.provisional else ""
        extra = f' <small class="as-of">{words["as_of"]} {escape(c.as_of)}</small>' if c.as_of else ""
        title = f' title="{escape(c.counts)}"' if c.counts else ""
        actual_td = f'<td class="num actual" data-col="{col}" data-value="{c.value}"{title}>{actual}{flag}{extra}</td>'
        target_td = f'<td class="num target">{escape(c.target)}</td>'
        if c.original:  # a revised target: the original beside it, as the IPTT shows both
            said, was = f"{words['original']} {escape(c.original)}", escape(c.original)
            target_td = f'<td class="num target revised" title="{said}">{escape(c.target)} <del>{was}</del></td>'
        if child and not c.target:
            parts.append(f"<td></td>{actual_td}<td></td>")
            continue
        if child:  # a partner's (or category's) own target and % of target
            parts.append(f'{target_td}{actual_td}<td class="num pct" data-col="{col}">{escape(c.pct)}</td>')
            continue
        pct_td = f'<td class="num pct" data-col="{col}">{escape(c.pct)}</td>'
        if c.deviation:  # the mark (▲ ▼) comes from the style sheet; the words are the cell's title
            said = escape(c.explanation) if c.explanation else words["none"]
            pct_td = (
                f'<td class="num pct deviation deviation-{c.deviation}" data-col="{col}" '
                f'data-deviation="{c.deviation}" data-explained="{"1" if c.explanation else "0"}" '
                f'title="{escape(words[c.deviation])}: {said}">{escape(c.pct)}</td>'
            )
        parts.append(f"{target_td}{actual_td}{pct_td}")
    return Markup("".join(parts))


Granularity = Annotated[str, Query()]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@router.get("/p/{code}/iptt", response_class=HTMLResponse, name="iptt")
def iptt_page(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    code: str,
    granularity: Granularity = "fy",
    pillar: str | None = None,
    level: str | None = None,
    partner: str | None = None,
    first: From = None,
    last: To = None,
    provisional: str | None = None,
    expand: Annotated[list[str] | None, Query()] = None,
) -> HTMLResponse:
    partnership = partnership_or_404(session, code, user)
    f = _filters(user, granularity, pillar, level, partner, first, last, provisional)
    expanded = sorted(set(expand or []))
    lang = request.state.lang

    def compute() -> tuple[Iptt, list[Any]]:
        table = _table(session, request, partnership, user, f, expand=None if "all" in expanded else expanded)
        display = [
            (
                row,
                cells_html(shown_cells(table, row, lang), child=False, lang=lang),
                [(c, cells_html(shown_cells(table, c, lang), child=True, lang=lang)) for c in row.children],
            )
            for row in table.rows
        ]
        return table, display

    viewer = viewer_of(user, provisional=f.provisional)  # the disclosure gate's key: see mel.results.store
    table, display = stored(session, partnership.id, "iptt.page", viewer, (f, tuple(expanded), lang), compute)
    context = common(partnership, user, lang) | {
        "table": table,
        "display": display,
        "filters": f,
        "query": f.query(),
        "expand_links": expand_links(f, expanded, table),
        "expand_all": urlencode([*parse_qsl(f.query()), ("expand", "all")]),
        "pillars": [*PILLARS, "cross-cutting"],
        "levels": LEVELS,
        "partners": visible_partners(viewer_of(user), partnership.partners),
        "quarters": list(quarters(quarter_of(partnership.starts_on), quarter_of(partnership.ends_on))),
    }
    return render(request, "iptt.html", context, block="table")


@router.get("/p/{code}/iptt.xlsx", name="iptt_xlsx")
def iptt_download(
    request: Request,
    session: SessionDep,
    user: AnyUser,
    code: str,
    granularity: Granularity = "fy",
    pillar: str | None = None,
    level: str | None = None,
    partner: str | None = None,
    first: From = None,
    last: To = None,
    provisional: str | None = None,
) -> Response:
    partnership = partnership_or_404(session, code, user)
    f = _filters(user, granularity, pillar, level, partner, first, last, provisional)
    lang = request.state.lang
    viewer = replace(viewer_of(user, provisional=f.provisional), suppress=True)  # as ``_table(download=True)``
    data = stored(
        session,
        partnership.id,
        "iptt.xlsx",
        viewer,
        (f, lang),
        lambda: iptt_xlsx(_table(session, request, partnership, user, f, download=True), lang=lang),
    )
    name = f"{partnership.code}-iptt-{f.granularity}.xlsx"
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
