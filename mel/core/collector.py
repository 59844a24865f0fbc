"""The cyclic garbage collector, tuned for a long-lived process that allocates much and keeps little."""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 20)
"""A page allocates a hundred thousand objects, nearly all freed by reference counting: with the default
thresholds (700, 10, 10) a full collection ran every page or two."""


def settle() -> None:
    """Freeze what the process built so far, and collect young objects less often.

    What a process builds before its work starts (modules, routes, templates; a test run's collected
    tests) lives as long as the process: frozen out of the collector, it is no longer rewalked by every
    full collection. Measured on a serving process: those collections put the p95 of the heaviest pages
    at three times their median.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
