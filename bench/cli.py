"""Start-up of the command line: ``python -m bench cli``.

Times, as an operator's shell runs them (a new process each time, wall clock):

* ``mel --help`` (target: 0.5 s), next to its floor (``python -c pass``: the interpreter alone)
  and to importing every command module at once, which is what ``mel`` did before it loaded
  commands on demand;
* ``mel import`` of one small quarterly report (``imports/chs-2021Q3.xlsx``) into a fresh copy
  of an initialized SQLite database (target: 1 s), next to the import itself in-process (the
  work, without starting Python or loading mel).

``--rounds`` rounds of ``--repeat`` runs each; prints the median p50 and p95 over the rounds
and the spread of the p95s, and the load average of each round. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._common import Rounds, busy, load
from mel.core.paths import IMPORTS_DIR

REPORT = IMPORTS_DIR / "chs-2021Q3.xlsx"
EVERY_COMMAND = (
    "import mel.cli.users, mel.cli.exports, mel.cli.reports, mel.cli.imports, mel.cli.templates, mel.auth.service"
)
ISSUE_18 = {"mel --help": "1.7-2.4 s"}


def _wall(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
    return (time.perf_counter() - start) * 1000


def _in_process(database: Path, uploads: Path) -> float:
    """The import's own work: ``import_workbook`` in this (already loaded) process, in ms."""
    from mel.core.db import make_engine, make_sessionmaker, transaction
    from mel.core.settings import Settings
    from mel.reports.service import import_workbook

    settings = Settings(database_url=f"sqlite:///{database}", upload_dir=uploads)
    engine = make_engine(settings.database_url)
    data = REPORT.read_bytes()
    start = time.perf_counter()
    with transaction(make_sessionmaker(engine)) as session:
        result = import_workbook(session=session, data=data, filename=REPORT.name, settings=settings)
    elapsed = (time.perf_counter() - start) * 1000
    engine.dispose()
    assert result.status == "accepted", result.status
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    mel = str(Path(sys.executable).parent / "mel")
    python = sys.executable
    rounds = Rounds()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {
            **os.environ,
            "MEL_DATABASE_URL": f"sqlite:///{work / 'init.sqlite3'}",
            "MEL_UPLOAD_DIR": str(work / "uploads"),
        }
        subprocess.run([mel, "init"], env=env, cwd=work, check=True, capture_output=True)
        fresh = work / "init.sqlite3"
        copy = work / "copy.sqlite3"
        import_env = {**env, "MEL_DATABASE_URL": f"sqlite:///{copy}"}

        def import_once() -> float:
            shutil.copyfile(fresh, copy)
            shutil.rmtree(work / "uploads", ignore_errors=True)
            return _wall([mel, "import", str(REPORT)], import_env, work)

        def import_in_process() -> float:
            shutil.copyfile(fresh, copy)
            shutil.rmtree(work / "uploads", ignore_errors=True)
            return _in_process(copy, work / "uploads")

        cases = {
            "mel --help": lambda: _wall([mel, "--help"], env, work),
            "  floor: python -c pass": lambda: _wall([python, "-c", "pass"], env, work),
            "  before: every command module imported": lambda: _wall([python, "-c", EVERY_COMMAND], env, work),
            "mel import of one small report": import_once,
            "  the import's work alone (in-process)": import_in_process,
        }
        for n in range(1, args.rounds + 1):
            print(f"round {n}: {load()} at the start{' (busy machine)' if busy() else ''}", flush=True)
            for name, call in cases.items():
                call()  # warm the file system cache
                rounds.add(name, [call() for _ in range(args.repeat)])
            rounds.loads.append(load())
    print(f"median of {args.rounds} rounds of {args.repeat} runs; loads at round ends: {rounds.loads}")
    targets = {"mel --help": 500.0, "mel import of one small report": 1000.0}
    for name in cases:
        print(rounds.line(name, target=targets.get(name), baseline=ISSUE_18.get(name, ""), width=44))


if __name__ == "__main__":
    main()
