"""The dashboard's lines through the disclosure gate.

One line per indicator: no margin relates two of them, so what hides is the small number itself
and whatever is computed from it (the progress bar, which with the baseline and target gives the
actual back). Per-partner figures reach a partner user for their own organization only.
"""

from __future__ import annotations

from collections.abc import Iterable

from mel.results.disclosure import SMALL, Viewer, is_small
from mel.results.progress import Progress


def disclose_progress(lines: Iterable[Progress], viewer: Viewer) -> None:
    """Hide, in place, what ``viewer`` may not read of each dashboard line."""
    for p in lines:
        p.partners = [v for v in p.partners if viewer.sees_rows_of(v.partner_id)]
        if not viewer.hides(p.indicator.sensitive):
            continue
        if is_small(p.actual):  # with it goes every measure that would give it back
            p.actual, p.actual_hidden, p.bar = None, SMALL, None
            p.pct_of_target = p.progress_pct = p.numerator = p.denominator = None
        if is_small(p.baseline):
            p.baseline, p.baseline_hidden = None, SMALL
        for v in p.partners:
            if is_small(v.value):
                v.value, v.hidden = None, SMALL
