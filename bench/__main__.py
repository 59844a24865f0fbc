"""``python -m bench [NAME [options]]`` (``make bench``): run one benchmark by name, or all of them.

A benchmark is any module of this package with a ``main()`` that prints its own table (medians of
several runs, each measured beside its anchor in the same run; most repeat in ``--rounds`` rounds
and give the median of the rounds' p95 with its spread); NAME is its module name or a short alias
(``import``, ``trainings``). The load average is printed before and after each benchmark: numbers
measured on a busy machine say so. Each runs in its own process, so that its peak memory (max RSS)
is its own; the runner describes the machine and writes the whole report to ``bench/results/``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import platform
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench._common import load

HERE = Path(__file__).resolve().parent
ALIASES = {"import": "imports", "trainings": "trainings_page", "progress": "pages"}


def benchmarks() -> list[str]:
    """Module names of the benchmarks, sorted; modules without ``main()`` are helpers."""
    names = []
    for info in pkgutil.iter_modules([str(HERE)]):
        if info.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.{info.name}"), "main"):
            names.append(info.name)
    return sorted(names)


def machine() -> list[str]:
    """What the numbers were measured on."""
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return [
        f"machine: {cpu}, {os.cpu_count()} cores{memory}{load}",
        f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.platform()}",
    ]


def run(name: str, args: list[str]) -> tuple[str, int, float, float]:
    """Run one benchmark in a child process: (output, exit status, seconds, peak RSS in MiB)."""
    code = f"import sys; sys.argv = ['bench {name}', *sys.argv[1:]]; import bench.{name} as b; b.main()"
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        print(f"  {line}", end="", flush=True)
        lines.append(line)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return "".join(lines), proc.returncode, time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> int:
    args = sys.argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        print("benchmarks: " + ", ".join(benchmarks()))
        return 0
    if args:
        name = ALIASES.get(args[0], args[0])
        if name not in benchmarks():
            print(f"unknown benchmark {args[0]!r}; one of: {', '.join(benchmarks())}", file=sys.stderr)
            return 2
        selected = [(name, args[1:])]
    else:
        selected = [(name, []) for name in benchmarks()]
    report = [f"# mel benchmarks, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", "", *machine(), ""]
    print("\n".join(report), flush=True)
    failed = 0
    for name, rest in selected:
        print(f"== {name} ({load()} at the start)", flush=True)
        output, code, seconds, peak = run(name, rest)
        failed += code != 0
        summary = f"{name}: exit {code}, {seconds:.0f} s wall, peak memory {peak:.0f} MiB, {load()} at the end"
        report += [f"## {name}", "", "```", output.rstrip(), "```", "", summary, ""]
        print(summary + "\n", flush=True)
    out = HERE / "results" / f"report-{dt.datetime.now(dt.UTC):%Y%m%d-%H%M%S}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(report) + "\n", encoding="utf-8")
    print(f"report written to {out.relative_to(HERE.parent)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
