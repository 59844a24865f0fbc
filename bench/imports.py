"""Import speed on a 100,000-row report: ``python -m bench import``.

Builds a synthetic catalog (the reference catalog plus enough regions and indicators for
``--rows`` distinct indicator rows), writes one quarterly report with those rows and a long
Trainings sheet, and times on SQLite (medians of ``--repeat`` runs):

- ``import_workbook`` as a dry run (read + check) against a bare python-calamine read of the same
  file and ``pandas.read_excel(engine="openpyxl")``;
- ``import_workbook`` storing, into a fresh copy of the database each run;
- storing alone (``import_parsed`` of the already checked workbook) against raw ``sqlite3``
  ``executemany`` of the same rows (values, training events and attendance, narrative).

Each measurement runs in its own forked process, so that its peak memory (max RSS, which includes
the few MB the parent held when it forked) is its own and shown beside its timings. Prints a small
table; asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import io
import itertools
import os
import pickle
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from mel.catalog.service import load_catalog
from mel.core import migrate
from mel.core.db import make_engine, make_sessionmaker, transaction
from mel.core.paths import INDICATORS_DIR
from mel.core.periods import quarter_start
from mel.core.settings import Settings
from mel.reports.parse import parse_workbook
from mel.reports.parse_results import ParsedWorkbook
from mel.reports.service import import_parsed, import_workbook
from mel.workbooks.reader import read_workbook
from mel.workbooks.report_writer import IndicatorRow, Report, TrainingRow, write_report
from mel.workbooks.spec import partner_spec

PARTNER, PERIOD = "ilo", "2021Q3"
EXTRA_REGIONS = 30


def synthetic_catalog(rows: int, out: Path) -> tuple[Path, list[str], dict[str, list[str]]]:
    """The reference catalog with more regions and enough sex x region x institution indicators."""
    data = yaml.safe_load((INDICATORS_DIR / "peru-cpc.yaml").read_text(encoding="utf-8"))
    dims = data["dimensions"]
    for n in range(1, EXTRA_REGIONS + 1):
        dims["region"]["categories"].append({"code": f"r{n:02}", "en": f"Region {n:02}", "es": f"Región {n:02}"})
    categories = {d: [c["code"] for c in dims[d]["categories"]] for d in ("sex", "region", "institution")}
    per_indicator = len(categories["sex"]) * len(categories["region"]) * len(categories["institution"])
    template = next(i for i in data["indicators"] if i["code"] == "1.1.a")
    codes = []
    for n in range(-(-rows // per_indicator)):
        ind = copy.deepcopy(template)
        ind.update(code=f"9.{n + 1}", name=f"Synthetic count {n + 1}", name_es=f"Conteo sintético {n + 1}")
        ind.update(dimensions=["sex", "region", "institution"], partners=[PARTNER])
        ind.pop("target", None)
        ind.pop("targets", None)
        ind.pop("baseline", None)
        data["indicators"].append(ind)
        codes.append(ind["code"])
    path = out / "bench-catalog.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, codes, categories


def synthetic_report(rows: int, trainings: int, codes: list[str], categories: dict[str, list[str]]) -> Report:
    combos = itertools.product(categories["sex"], categories["region"], categories["institution"])
    product = list(combos)
    indicators = [
        IndicatorRow(code, 1 + (n * 7) % 50, {"sex": s, "region": r, "institution": i})
        for n, (code, (s, r, i)) in enumerate(itertools.islice(((c, k) for c in codes for k in product), rows))
    ]
    start = quarter_start(PERIOD)
    regions, institutions = categories["region"], categories["institution"]
    training_rows = [
        TrainingRow(
            title=f"Course {n // 3}",
            start_date=start.replace(day=1 + (n // 3) % 28),
            pillar="prosecution",
            region=regions[(n // 3) % len(regions)],
            modality="virtual",
            institution=institutions[n % 3],
            female=n % 17,
            male=n % 13,
            hours=8.0,
        )
        for n in range(trainings)
    ]
    narrative = [("achievements", "Synthetic report for the import benchmark.")]
    return Report(PARTNER, PERIOD, indicators, training_rows, narrative, prepared_by="bench")


def _median(call: Callable[[], Any], repeat: int, prepare: Callable[[], None] | None = None) -> tuple[float, float]:
    """Median wall-clock and CPU seconds (CPU time is steadier on a shared machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        if prepare:
            prepare()
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def _in_child(work: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``work`` in a forked child: (what it returned, peak RSS in MiB of that child)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: measure, send the timings, leave without running the parent's cleanups
        code = 0
        try:
            os.close(read)
            with os.fdopen(write, "wb") as out:
                pickle.dump(work(), out)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as inp:
        payload = inp.read()
    _pid, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not payload:
        raise RuntimeError("a benchmark step failed in its child process")
    return pickle.loads(payload), usage.ru_maxrss / 1024


def _isolated(measure: Callable[[], tuple[float, float]]) -> tuple[float, float, float]:
    """(wall, CPU, peak RSS in MiB) of ``measure`` run in its own forked process."""
    (wall, cpu), peak = _in_child(measure)
    return wall, cpu, peak


def _calamine(data: bytes) -> None:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def _pandas(data: bytes) -> None:
    import pandas as pd

    pd.read_excel(io.BytesIO(data), engine="openpyxl", sheet_name=None)


def _raw_rows(parsed: ParsedWorkbook) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows storing writes, as plain tuples (row numbers stand for the looked-up combination ids)."""
    values = [
        (1, v.indicator_id, n + 1, parsed.partner_id, PERIOD, v.value, v.comment, v.sheet, v.cell)
        for n, v in enumerate(parsed.values)
    ]
    events: dict[tuple[Any, ...], int] = {}
    for t in parsed.trainings:
        events.setdefault((t.title, t.start_date, t.end_date, t.pillar, t.region_id, t.modality_id), len(events) + 1)
    event_rows = [(1, k[0], k[1].isoformat(), None, k[3], k[4], k[5]) for k in events]
    attendance = [
        (
            events[(t.title, t.start_date, t.end_date, t.pillar, t.region_id, t.modality_id)],
            t.institution_id,
            t.female,
            t.male,
            t.other,
            t.under_18,
            t.hours,
            t.pre_score,
            t.post_score,
            t.sheet,
            t.row,
        )
        for t in parsed.trainings
    ]
    return values, event_rows, attendance


def _raw_store(path: Path, parsed: ParsedWorkbook) -> Callable[[], None]:
    values, events, attendance = _raw_rows(parsed)

    def run() -> None:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with conn:
            conn.execute(
                "INSERT INTO stored_file (sha256, size, original_name, stored_at) VALUES ('x', 1, 'x', '2021-01-01')"
            )
            conn.execute(
                "INSERT INTO submission (id, partner_id, period, version, status, file_sha256, lang, uploaded_at) "
                "VALUES (1, ?, ?, 1, 'submitted', 'x', 'en', '2021-01-01')",
                (parsed.partner_id, PERIOD),
            )
            conn.executemany(
                "INSERT INTO value (submission_id, indicator_id, combination_id, partner_id, period, value, comment, "
                "sheet, cell) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values,
            )
            conn.executemany(
                "INSERT INTO training_event (submission_id, title, start_date, end_date, pillar, region_id, "
                "modality_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                events,
            )
            conn.executemany(
                "INSERT INTO training_attendance (event_id, institution_id, female, male, other, under_18, hours, "
                "pre_score, post_score, sheet, row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                attendance,
            )
        conn.close()

    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="indicator rows of the report")
    parser.add_argument("--trainings", type=int, default=10_000, help="rows of the Trainings sheet")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pandas", action="store_true", help="skip the (slow) pandas comparison")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)

        def build() -> tuple[bytes, int, int]:
            """Catalog, template database and workbook, built in a child so this process stays small."""
            catalog, codes, categories = synthetic_catalog(args.rows, tmp)
            migrate.upgrade(f"sqlite:///{template}")
            engine = make_engine(f"sqlite:///{template}")
            with transaction(make_sessionmaker(engine)) as session:
                load_catalog(session=session, path=catalog)
            with make_sessionmaker(engine)() as session:
                spec = partner_spec(session, partner_code=PARTNER, period=PERIOD, lang="en")
            with engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            report = synthetic_report(args.rows, args.trainings, codes, categories)
            return write_report(report, spec.dimensions, "en"), len(report.indicators), len(report.trainings)

        template = tmp / "template.sqlite3"
        (data, n_values, n_trainings), _peak = _in_child(build)
        print(f"workbook: {n_values:,} indicator rows, {n_trainings:,} training rows, {len(data) / 1e6:.1f} MB")
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        work = tmp / "work.sqlite3"
        settings = Settings(database_url=f"sqlite:///{work}", upload_dir=tmp / "uploads", max_upload_mb=200)

        def fresh() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{work}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(template, work)
            shutil.rmtree(tmp / "uploads", ignore_errors=True)

        fresh()

        def dry_run() -> None:
            engine = make_engine(settings.database_url)
            with make_sessionmaker(engine)() as session:
                result = import_workbook(
                    session=session, data=data, filename="bench.xlsx", settings=settings, dry_run=True
                )
                assert result.status == "accepted", result.errors[:5]
            engine.dispose()

        def store() -> None:
            engine = make_engine(settings.database_url)
            with transaction(make_sessionmaker(engine)) as session:
                result = import_workbook(session=session, data=data, filename="bench.xlsx", settings=settings)
                assert result.status == "accepted", result.errors[:5]
            engine.dispose()

        def checked() -> ParsedWorkbook:
            engine = make_engine(settings.database_url)
            with make_sessionmaker(engine)() as session:
                parsed = parse_workbook(
                    session,
                    read_workbook(data, max_bytes=len(data) + 1),
                    lang="en",
                    partner_code=None,
                    period=None,
                    partnership_code=None,
                )
            engine.dispose()
            assert not parsed.errors, parsed.errors[:5]
            return parsed

        def store_only() -> tuple[float, float]:
            parsed = checked()

            def run() -> None:
                engine = make_engine(settings.database_url)
                with transaction(make_sessionmaker(engine)) as session:
                    result = import_parsed(
                        session=session, parsed=parsed, data=data, filename="b.xlsx", settings=settings
                    )
                    assert result.status == "accepted"
                engine.dispose()

            return _median(run, args.repeat, fresh)

        def raw() -> tuple[float, float]:
            return _median(_raw_store(work, checked()), args.repeat, fresh)

        results: dict[str, tuple[float, float, float]] = {}
        results["calamine read (all sheets)"] = _isolated(lambda: _median(lambda: _calamine(data), args.repeat))
        if not args.no_pandas:
            results["pandas.read_excel (openpyxl)"] = _isolated(lambda: _median(lambda: _pandas(data), args.repeat))
        results["import_workbook --dry-run"] = _isolated(lambda: _median(dry_run, args.repeat))
        results["import_workbook, storing"] = _isolated(lambda: _median(store, args.repeat, fresh))
        results["storing only (import_parsed)"] = _isolated(store_only)
        results["raw sqlite3 executemany"] = _isolated(raw)
    width = max(len(k) for k in results)
    print(f"{'SQLite, median of ' + str(args.repeat):{width}}  wall s   CPU s  peak MiB")
    for name, (wall, cpu, peak) in results.items():
        print(f"{name:{width}}  {wall:6.2f}  {cpu:6.2f}  {peak:8.0f}")
    print(f"(each peak includes the {base:.0f} MiB the benchmark process held when it forked the step)")

    def ratio(a: str, b: str) -> str:
        return f"{results[a][0] / results[b][0]:.1f}x wall, {results[a][1] / results[b][1]:.1f}x CPU"

    print(f"dry run / calamine read: {ratio('import_workbook --dry-run', 'calamine read (all sheets)')} (target <= 3)")
    if "pandas.read_excel (openpyxl)" in results:
        print(f"pandas / dry run: {ratio('pandas.read_excel (openpyxl)', 'import_workbook --dry-run')} (target >= 2)")
    print(
        "storing only / raw executemany: "
        f"{ratio('storing only (import_parsed)', 'raw sqlite3 executemany')} (target <= 3)"
    )


if __name__ == "__main__":
    main()
