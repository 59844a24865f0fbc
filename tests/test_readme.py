"""The README stays true: every setting documented, the two commands exist, CI calls the test one."""

from __future__ import annotations

import re
from pathlib import Path

from mel.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(MEL_[A-Z_]+)`", README))
    expected = {f"MEL_{name.upper()}" for name in Settings.model_fields}
    assert expected <= documented, expected - documented


def test_two_commands_and_ci() -> None:
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", README, re.S)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
