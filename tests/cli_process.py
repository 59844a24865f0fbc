"""``mel`` run as its own process, forked from a forkserver that has already imported mel.

A new interpreter spends about a second importing mel before the command starts; the crash test runs
``mel import`` at each of its stages on each backend and paid that second every time. A child of the
forkserver is a fresh process all the same: single-threaded as ``mel`` is, with its own environment,
arguments, standard output and error, and exit code, and ``mel.cli.main`` runs in it as the console
script runs it.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

PRELOAD = ["mel.cli", "mel.reports.worker", "mel.reports.service"]


@dataclass(frozen=True)
class Finished:
    """What ``subprocess.run(..., capture_output=True, text=True)`` would have given."""

    returncode: int
    stdout: str
    stderr: str


def _mel(args: list[str], env: dict[str, str], out: str, err: str) -> None:
    """The child: the command's environment and output files, then ``mel ARGS``."""
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out), (2, err)):  # also what a process forked by the command writes
        target = os.open(path, os.O_WRONLY)
        os.dup2(target, fd)
        os.close(target)
    sys.argv = ["mel", *args]
    from mel.cli import main

    with (
        open(1, "w", encoding="utf-8", closefd=False) as stdout,
        open(2, "w", encoding="utf-8", closefd=False) as stderr,
        redirect_stdout(stdout),
        redirect_stderr(stderr),
    ):
        main()  # its SystemExit gives the child its exit code, after both files are flushed


def run_mel(args: Sequence[str], env: Mapping[str, str], timeout: float = 120) -> Finished:
    """``mel ARGS`` in a new process with exactly ``env`` as its environment; raises on a timeout."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # used only if this process has not started its forkserver yet
    with tempfile.TemporaryDirectory(prefix="mel-cli-") as tmp:
        out, err = Path(tmp, "stdout"), Path(tmp, "stderr")
        out.touch()
        err.touch()
        child = ctx.Process(target=_mel, args=(list(args), dict(env), str(out), str(err)), name="mel")
        child.start()
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise TimeoutError(f"mel {' '.join(args)} ran longer than {timeout} s")
        return Finished(child.exitcode, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))
