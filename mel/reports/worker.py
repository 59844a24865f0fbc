"""Run one import in a worker process, so that no file can crash or starve the process that asked.

The child (forked from a forkserver that has already imported mel) limits its own address space
(``RLIMIT_AS``) and CPU time, opens its own database connection, and runs ``import_workbook`` in
its own transaction; the parent relays its progress and waits at most the time limit. A child that
runs out of memory, is killed by a signal (calamine aborts on a failed allocation) or overruns
the time limit leaves nothing stored (its transaction never commits) and the parent answers with a
``could_not_read`` rejection instead: the web server or the CLI keeps running.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import resource
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from mel.core.audit import CLI, Actor
from mel.core.settings import Settings
from mel.reports.import_result import ImportResult
from mel.reports.intake_messages import could_not_read_issue
from mel.reports.service import ProgressCallback

log = logging.getLogger(__name__)

_CONTEXT = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_GRACE_SECONDS = 5
CRASH_ENV = "MEL_TEST_CRASH_AT"
"""Fault injection for the crash test only: the worker kills itself (SIGKILL, as a power cut would) when it
reaches this point: a progress step (``reading:0``, ``checking:1``, ``storing:0.8``...) or ``committed``
(after its transaction committed, before it answered)."""


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class ImportRequest:
    """Everything ``import_workbook`` needs, picklable: the worker process gets nothing else."""

    data: bytes
    filename: str
    partner_code: str | None = None
    period: str | None = None
    partnership_code: str | None = None
    lang: str = "en"
    actor: Actor = CLI
    dry_run: bool = False
    reason: str | None = None


def _context(start_method: str | None = None) -> Any:
    if start_method is not None:  # the command line forks itself: it has mel loaded, and no threads
        return multiprocessing.get_context(start_method)
    ctx = multiprocessing.get_context(_CONTEXT)
    if _CONTEXT == "forkserver":
        ctx.set_forkserver_preload(["mel.reports.worker", "mel.reports.service"])
    return ctx


def _address_space() -> int:
    """Bytes of address space this process holds now (0 where ``/proc`` cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def _limit(settings: Settings) -> None:
    """The import may add ``import_memory_mb`` to the address space it was forked with: a child of the
    command line inherits its caller's mappings (a long-lived caller with many threads holds gigabytes
    of reserved, unused address space), which are not the file's doing."""
    memory = settings.import_memory_mb * 1024 * 1024 + _address_space()
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = settings.import_timeout_seconds + _GRACE_SECONDS
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + _GRACE_SECONDS))


def _child(conn: Connection, settings: Settings, request: ImportRequest) -> None:
    """The worker process: limits first, then the import in its own transaction."""
    from mel.core.db import make_engine, make_sessionmaker, transaction
    from mel.reports.service import import_workbook

    def progress(stage: str, fraction: float) -> None:
        _crash_point(f"{stage}:{fraction:g}")
        conn.send(("progress", stage, fraction))

    try:
        _limit(settings)
        engine = make_engine(settings.database_url)
        try:
            with transaction(make_sessionmaker(engine)) as session:
                result = import_workbook(
                    session=session,
                    data=request.data,
                    filename=request.filename,
                    settings=settings,
                    partner_code=request.partner_code,
                    period=request.period,
                    partnership_code=request.partnership_code,
                    lang=request.lang,
                    actor=request.actor,
                    dry_run=request.dry_run,
                    reason=request.reason,
                    progress=progress,
                )
        finally:
            engine.dispose()
        _crash_point("committed")
        conn.send(("result", result))
    except MemoryError:
        conn.send(("memory",))
    finally:
        conn.close()


def run_isolated(
    settings: Settings,
    request: ImportRequest,
    progress: ProgressCallback | None = None,
    *,
    start_method: str | None = None,
) -> ImportResult:
    """``import_workbook`` in a limited worker process; a crash or a limit becomes a rejection.

    ``start_method`` "fork" suits a single-threaded caller that has already imported the importer
    (``mel import``): no forkserver to start and load mel again. Servers use the forkserver.
    """
    ctx = _context(start_method)
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, settings, request), name="mel-import", daemon=True)
    process.start()
    sender.close()
    deadline = time.monotonic() + settings.import_timeout_seconds
    result: ImportResult | None = None
    timed_out = False
    try:
        while result is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if not receiver.poll(min(remaining, 1.0)):
                if not process.is_alive() and not receiver.poll(0):
                    break
                continue
            try:
                message = receiver.recv()
            except (EOFError, OSError):
                break
            if message[0] == "progress" and progress is not None:
                progress(message[1], message[2])
            elif message[0] == "result":
                result = message[1]
            elif message[0] == "memory":
                break
    finally:
        receiver.close()
        if result is None and process.is_alive():
            process.kill()
        process.join(10)
    if result is not None:
        return result
    log.warning(
        "import worker for %r gave no result (exit %s, timed out %s)", request.filename, process.exitcode, timed_out
    )
    return ImportResult(
        "rejected",
        partner=request.partner_code,
        period=request.period,
        dry_run=request.dry_run,
        errors=[could_not_read_issue(request.lang, timed_out=timed_out)],
    )
