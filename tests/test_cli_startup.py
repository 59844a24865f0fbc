"""A command line that starts at once: each command imports what it needs when it runs (timing: bench/cli.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from mel.cli import LAZY, app, load_command

HEAVY = ("fastapi", "uvicorn", "pandas", "pyarrow", "argon2", "openpyxl", "jinja2")


def _loaded_after(*args: str) -> set[str]:
    """The heavy modules a fresh ``mel ARGS`` process has imported when it exits."""
    code = (
        "import json, sys\n"
        f"sys.argv = ['mel', *{list(args)!r}]\n"
        "from mel.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (("--help",), set()),
        (("import", "--help"), set()),
        (("report", "--help"), set()),
        (("export", "--help"), set()),
        (("user", "--help"), {"argon2"}),  # `user add` hashes passwords
        (("template", "--help"), {"openpyxl"}),  # the template is written with openpyxl
    ],
)
def test_a_command_loads_only_what_it_uses(args: tuple[str, ...], allowed: set[str]) -> None:
    assert _loaded_after(*args) <= allowed


def test_the_importer_loads_only_what_an_import_uses() -> None:
    """`mel import` loads the whole importer before it forks its worker: none of it is web, tables or
    accounts, nor the review workflow (a stored version only resolves queries) or the .po reader (English)."""
    extra = ("mel.reports.review", "babel.messages", "xml.sax", "http.client")
    code = (
        "import sys, mel.cli.imports, mel.reports.queries_resolve\n"
        f"print([m for m in {HEAVY + extra!r} if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_root_help_lists_every_command_without_loading_them() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in [*LAZY, "init", "catalog", "serve", "demo", "backup", "restore"]:
        assert f"  {name} " in result.output, name


@pytest.mark.parametrize("name", sorted(LAZY))
def test_each_lazy_command_loads_and_answers_its_help(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert re.search(rf"Usage: \S+ {name} ", result.output), result.output


def test_an_unknown_command_is_a_usage_error() -> None:
    assert CliRunner().invoke(app, ["nonsense"]).exit_code == 2


def test_importing_the_account_service_hashes_nothing() -> None:
    code = "import mel.auth.service as s, mel.auth.passwords as p; print(p.dummy_hash.cache_info().currsize)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"  # argon2 runs at the first login, not at import
