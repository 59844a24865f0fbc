"""LibreOffice as the workbook tests use it: ``soffice --headless --convert-to`` in a profile of the test's own.

Its first start in a new profile has been seen to exit with status 1, having converted nothing and said
nothing, while the machine was busy (the profile is made at that start); the same call then succeeds.
So a start that converts nothing is tried once more, and a second failure fails the test with what
LibreOffice printed. A file LibreOffice cannot read still fails the test: what it converts is compared.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def soffice() -> str:
    """The ``soffice`` command, or a skip (a failure under ``MEL_REQUIRE_SOFFICE=1``, as in CI)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        if os.environ.get("MEL_REQUIRE_SOFFICE") == "1":
            pytest.fail(f"MEL_REQUIRE_SOFFICE=1 but {message}")
        pytest.skip(message)
    return found


def convert(profile: Path, target: str, outdir: Path, sources: list[Path]) -> None:
    """Convert ``sources`` to ``target`` (``xlsx``, or a filter with its options) into ``outdir``."""
    command = [
        soffice(),
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--convert-to",
        target,
        "--outdir",
        str(outdir),
        *map(str, sources),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if run.returncode != 0 and not any(outdir.glob("*")):  # a first start that converted nothing: once more
        run = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if run.returncode != 0:
        pytest.fail(f"soffice exited with status {run.returncode}:\n{run.stdout}\n{run.stderr}")
