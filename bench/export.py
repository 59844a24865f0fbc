"""Export speed over a million values: ``python -m bench export``.

Builds a migrated SQLite database (or fills ``--database-url``: give it an empty, migrated one) with
the reference catalog and ``--values`` approved values (5 partners x 20 quarters, bulk Core
inserts), then times ``mel export values`` as CSV against pandas ``to_csv`` of the same frame
(target: at most 2x), and the XLSX export's time and peak memory (in a child process, so its
resident set is its own). Prints times in seconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from mel.catalog.combinations import combination_ids
from mel.catalog.models import Category, Dimension, Indicator, Partner, Partnership
from mel.catalog.service import load_catalog
from mel.core import migrate
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.periods import quarters
from mel.exports import values
from mel.exports.options import ExportOptions
from mel.exports.service import export
from mel.reports.models import StoredFile, Submission, Value
from mel.results.progress import load_partnership

PARTNERS = ("ilo", "chs", "idl", "yanapanakusun", "aba-roli")
QUARTERS = list(quarters("2017Q3", "2022Q2"))  # 20 quarters
CHUNK = 50_000


def build(url: str, total: int) -> None:
    """The reference catalog and ``total`` values spread over 100 approved reports."""
    factory = make_sessionmaker(make_engine(url))
    with transaction(factory) as session:
        load_catalog(session=session, path=INDICATORS_DIR / "peru-cpc.yaml")
    with transaction(factory) as session:
        partnership = session.scalars(select(Partnership).where(Partnership.code == "peru-cpc")).one()
        partners = {
            c: i
            for c, i in session.execute(
                select(Partner.code, Partner.id).where(Partner.partnership_id == partnership.id)
            )
        }
        indicators = list(session.scalars(select(Indicator.id).where(Indicator.partnership_id == partnership.id)))
        by_dim: dict[str, list[int]] = {}
        for dim, cat in session.execute(
            select(Dimension.code, Category.id)
            .join(Category, Category.dimension_id == Dimension.id)
            .where(Dimension.partnership_id == partnership.id)
        ):
            by_dim.setdefault(dim, []).append(cat)
        crossed = [
            frozenset(c)
            for c in itertools.product(by_dim["sex"], by_dim["institution"], by_dim["region"], by_dim["age_group"])
        ]
        combos = list(combination_ids(session, [frozenset(), *crossed]).values())
        per_report = -(-total // (len(PARTNERS) * len(QUARTERS)))
        pairs = list(itertools.islice(itertools.product(indicators, combos), per_report))
        made = 0
        for code in PARTNERS:
            for period in QUARTERS:
                digest = hashlib.sha256(f"bench-export{code}{period}".encode()).hexdigest()
                session.execute(insert(StoredFile), [{"sha256": digest, "size": 1, "original_name": "x.xlsx"}])
                sub_id = session.scalars(
                    insert(Submission).returning(Submission.id),
                    [
                        {
                            "partner_id": partners[code],
                            "period": period,
                            "version": 1,
                            "status": "approved",
                            "file_sha256": digest,
                        }
                    ],
                ).one()
                wanted = pairs[: min(per_report, total - made)]
                rows = [
                    {
                        "submission_id": sub_id,
                        "indicator_id": iid,
                        "combination_id": cid,
                        "partner_id": partners[code],
                        "period": period,
                        "value": float((n * 7) % 250),
                        "sheet": "Indicators",
                        "cell": f"F{n + 5}",
                        "comment": "checked" if n % 50 == 0 else None,
                    }
                    for n, (iid, cid) in enumerate(wanted)
                ]
                for start in range(0, len(rows), CHUNK):
                    session.execute(insert(Value), rows[start : start + CHUNK])
                made += len(wanted)


def _export(url: str, fmt: str, path: Path) -> float:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session:
        partnership = load_partnership(session, "peru-cpc")
        assert partnership is not None
        start = time.perf_counter()
        if fmt == "xlsx":
            with path.open("wb") as fh:
                export(
                    session=session, kind="values", partnership=partnership, fmt=fmt, options=ExportOptions(), out=fh
                )
        else:
            with path.open("w", encoding="utf-8", newline="") as text:
                export(
                    session=session, kind="values", partnership=partnership, fmt=fmt, options=ExportOptions(), out=text
                )
        seconds = time.perf_counter() - start
    engine.dispose()
    return seconds


def _peak_kb() -> int:
    """This process's peak resident set (VmHWM; unlike ru_maxrss it does not carry over across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(url: str, fmt: str, path: str, queue: Any) -> None:
    before = _peak_kb()
    seconds = _export(url, fmt, Path(path))
    queue.put((seconds, before, _peak_kb()))


def in_child(url: str, fmt: str, path: Path) -> tuple[float, float, float]:
    """(seconds, resident MB before, peak resident MB) of one export in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(url, fmt, str(path), queue))
    proc.start()
    seconds, before, peak = queue.get()
    proc.join()
    return seconds, before / 1024, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-xlsx", action="store_true", help="skip the XLSX export")
    parser.add_argument("--database-url", help="an empty, migrated database to fill (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
        if not args.database_url:
            migrate.upgrade(url)
        start = time.perf_counter()
        build(url, args.values)
        print(f"built {args.values:,} values in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})", flush=True)

        csv_times = [_export(url, "csv", work / "values.csv") for _ in range(args.repeat)]
        lines = sum(1 for _ in (work / "values.csv").open(encoding="utf-8")) - 1
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            partnership = load_partnership(session, "peru-cpc")
            assert partnership is not None
            table = values.build(session, partnership, ExportOptions())
            frame = pd.DataFrame(list(table.rows()), columns=[c.key for c in table.columns])
        engine.dispose()
        pandas_times = []
        for _ in range(args.repeat):
            begin = time.perf_counter()
            frame.to_csv(work / "pandas.csv", index=False)
            pandas_times.append(time.perf_counter() - begin)
        best_csv, best_pd = min(csv_times), min(pandas_times)
        print(
            f"mel export values --format csv ({lines:,} rows, query included) {best_csv:8.2f} s (best of {args.repeat})"
        )
        print(f"pandas DataFrame.to_csv of the same frame                    {best_pd:8.2f} s (best of {args.repeat})")
        print(f"ratio export / pandas                                        {best_csv / best_pd:8.2f}x (target <= 2x)")
        if not args.no_xlsx:
            seconds, before, peak = in_child(url, "xlsx", work / "values.xlsx")
            size = (work / "values.xlsx").stat().st_size / 1e6
            print(f"mel export values --format xlsx                              {seconds:8.2f} s, {size:.0f} MB file")
            print(f"  peak resident memory {peak:.0f} MB (process at start {before:.0f} MB, constant_memory)")


if __name__ == "__main__":
    main()
