"""The IPTT's cells as the page prints them: formatted once, and written to HTML in one pass.

A quarterly IPTT has tens of thousands of cells; a template loop per cell is what made the page
slow (measured), so the cells of a row are built here, escaped, and the template inserts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from markupsafe import Markup, escape

from mel.catalog.stages import Scale
from mel.core.i18n import format_number, t
from mel.results.disclosure import mark
from mel.results.iptt import Iptt, IpttRow


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
