"""The dumbbell chart of the comparison page, as geometry for a server-rendered SVG (no JavaScript).

Indicators differ by orders of magnitude (1,480 cases, 14 offices, 59 %), so each line has its own
scale: from 0 to the largest of its baseline, endline and target, drawn as a labelled axis under
the line (``0`` … ``1,480``, in the indicator's unit), with each value written by its point. The
chart shows direction and distance to target; the table beside it holds every number.
"""

from __future__ import annotations

from dataclasses import dataclass

from mel.core.i18n import in_language
from mel.results.comparison import ComparisonRow

WIDTH = 720
LABEL = 110
ROW = 46
PAD = 14
RIGHT = 56  # room for the scale's end label


@dataclass(frozen=True)
class Dumbbell:
    label: str
    y: float
    baseline_x: float | None
    endline_x: float | None
    target_x: float | None
    trend: str | None
    comparable: bool
    baseline: float | None
    endline: float | None
    target: float | None
    unit: str = "count"
    top: float = 1.0
    """The end of this line's own scale (its axis runs from 0 to ``top``)."""
    zero_x: float = LABEL + PAD
    top_x: float = WIDTH - RIGHT
    name_en: str = ""
    name_es: str | None = None

    def name(self, lang: str) -> str:
        """The indicator's name in ``lang``: the chart's geometry holds no language."""
        return in_language(lang, self.name_en, self.name_es)


def _x(value: float | None, top: float) -> float | None:
    if value is None:
        return None
    span = WIDTH - RIGHT - LABEL - PAD
    return round(LABEL + PAD + (value / top if top else 0.0) * span, 1)


def dumbbells(rows: list[ComparisonRow]) -> tuple[list[Dumbbell], int]:
    """(one dumbbell per row that has a baseline or an endline value, the chart height)."""
    out: list[Dumbbell] = []
    for row in rows:
        base = row.baseline.value if row.baseline else None
        end = row.endline.value if row.endline else None
        if base is None and end is None:
            continue
        top = max(abs(v) for v in (base, end, row.target) if v is not None) or 1.0
        label = row.indicator.code + (f" · {row.category.code}" if row.category else "")
        out.append(
            Dumbbell(
                label=label,
                y=PAD + len(out) * ROW + ROW / 2,
                baseline_x=_x(base, top),
                endline_x=_x(end, top),
                target_x=_x(row.target, top),
                trend=row.trend,
                comparable=row.comparable,
                baseline=base,
                endline=end,
                target=row.target,
                unit=row.indicator.unit,
                top=top,
                zero_x=_x(0.0, top) or LABEL + PAD,
                top_x=_x(top, top) or WIDTH - RIGHT,
                name_en=row.indicator.label("en"),
                name_es=row.indicator.label("es"),
            )
        )
    return out, int(2 * PAD + len(out) * ROW)
