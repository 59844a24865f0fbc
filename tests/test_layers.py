"""The house has layers: a module imports only from its own layer or below, and only ``web`` speaks HTTP.

Like the route-policy test, this reads the real code: every import statement of every module of
``mel/`` and ``demo/`` (imports inside functions and under ``TYPE_CHECKING`` included), so a module
added anywhere is checked too. The order is DESIGN.md's: core < catalog < auth, workbooks < reports
< results < quality, exports < web < cli (with the demo and the table registry beside the CLI).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: dict[str, int] = {
    "core": 0,
    "catalog": 1,
    "auth": 2,
    "workbooks": 2,
    "reports": 3,
    "results": 4,
    "quality": 5,
    "exports": 5,
    "web": 6,
    "cli": 7,
    "models": 7,  # mel.models: every table, for Alembic and the CLI's catalog checks
    "demo": 7,
}
HTTP = ("fastapi", "starlette", "jinja2", "jinja2_fragments", "uvicorn", "itsdangerous")
"""Third-party packages only the web layer (and the CLI that starts it) may import."""
HTTP_ALLOWED = {"web", "cli"}
MAX_LINES = 400


def modules() -> Iterator[tuple[str, Path]]:
    for top in ("mel", "demo"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def layer_of(module: str) -> str:
    """The layer a module belongs to: ``mel.<package>`` (``mel`` itself is core)."""
    parts = module.split(".")
    if parts[0] == "demo":
        return "demo"
    if len(parts) == 1:
        return "core"
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: mel.{parts[1]} is in no layer; add it to a layer package or to LAYERS")
    return parts[1]


def imports(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of the file, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:  # ``from mel.web import routes``: the submodule is imported
                yield node.lineno, f"{base}.{alias.name}"


def known(name: str, names: set[str]) -> str | None:
    """The project module ``name`` refers to (an attribute import resolves to its module)."""
    while name and name not in names:
        name = name.rpartition(".")[0]
    return name or None


ALL = dict(modules())


def test_every_module_sits_in_a_layer() -> None:
    assert len(ALL) > 100
    for module in ALL:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(ALL))
def test_imports_follow_the_layers(module: str) -> None:
    mine = layer_of(module)
    wrong = []
    for line, name in imports(ALL[module], module):
        top = name.split(".")[0]
        if top in HTTP and mine not in HTTP_ALLOWED:
            wrong.append(f"line {line}: {name} (HTTP belongs to mel.web)")
        target = known(name, set(ALL)) if top in ("mel", "demo") else None
        if target is None:
            continue
        theirs = layer_of(target)
        if LAYERS[theirs] > LAYERS[mine] or (
            LAYERS[theirs] == LAYERS[mine] and theirs != mine and LAYERS[mine] < LAYERS["cli"]
        ):
            wrong.append(f"line {line}: {target} ({theirs}) from {mine}")
    assert not wrong, f"{ALL[module].relative_to(ROOT)} imports against the layer order:\n" + "\n".join(wrong)


def test_the_checker_sees_a_backward_import(tmp_path: Path) -> None:
    """The walk above finds imports inside functions and relative ones (else the test proves nothing)."""
    source = tmp_path / "x.py"
    source.write_text("def f():\n    from mel.web.app import create_app\n\nfrom .. import routes\n", encoding="utf-8")
    found = {name for _line, name in imports(source, "mel.reports.x")}
    assert {"mel.web.app", "mel.routes"} <= found


SIZED = {**ALL, **{".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in (ROOT / "tests").rglob("*.py")}}
"""Every module whose size is checked: mel/ and demo/, and the tests (tests/e2e included), which read the same way."""


@pytest.mark.parametrize("module", sorted(SIZED))
def test_modules_are_small(module: str) -> None:
    """A module does one job and reads in one sitting."""
    lines = len(SIZED[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{SIZED[module].relative_to(ROOT)} has {lines} lines (at most {MAX_LINES}): split it by job"
    )


def test_readme_layout_matches_the_tree() -> None:
    """README's layout lists every package of mel/ and each layer of the order, and nothing that is gone."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Layout", 1)[1].split("```", 2)[1]
    listed = {
        line.split()[0].rstrip("/")
        for line in block.splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    }
    packages = {p.parent.name for p in (ROOT / "mel").glob("*/__init__.py")}
    assert packages - listed == set(), "packages missing from README's layout"
    for name in listed - {"models.py", "locale/,"}:
        assert (ROOT / "mel" / name).exists(), f"README's layout lists mel/{name}, which does not exist"
    assert set(LAYERS) - {"models", "demo"} <= packages


ONE_LANGUAGE = {
    "mel.reports.import_refusals": {"refuse_measurements", "refuse_report"},
    "mel.reports.import_warnings": {"quality_warnings"},
    "mel.reports.job_queue": {"enqueue_import", "record_finished", "_add_job"},
    "mel.reports.json_report": {"import_json_report"},
    "mel.reports.parse": {"parse_bytes", "parse_workbook", "_parse"},
    "mel.reports.service": {"import_workbook", "_needs_reason"},
    "mel.results.prefill": {"build_template"},
}
"""Functions that read the database and do take a language: imports, whose messages are stored in the
uploader's language, and the template, a workbook in one language."""


def reads_in_a_language(path: Path) -> Iterator[str]:
    """Top-level functions that take a ``Session`` and a ``lang``."""
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.FunctionDef):
            params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            names = {p.arg for p in params}
            if "lang" in names and any(p.annotation and ast.unparse(p.annotation) == "Session" for p in params):
                yield node.name


def test_queries_leave_the_language_to_the_page() -> None:
    """A query returns its names in both languages (``Bilingual``, ``label(lang)``) and the page picks
    one when it renders: what is read does not depend on who reads it."""
    found = {
        module: set(reads_in_a_language(path))
        for module, path in ALL.items()
        if layer_of(module) in ("catalog", "reports", "results", "quality", "exports")
    }
    wrong = sorted(
        f"{module}.{name}" for module, names in found.items() for name in names - ONE_LANGUAGE.get(module, set())
    )
    assert not wrong, "queries that pick a language (return both, let the page pick):\n" + "\n".join(wrong)
    gone = sorted(f"{m}.{n}" for m, names in ONE_LANGUAGE.items() for n in names - found.get(m, set()))
    assert not gone, "listed as taking a language but no longer do:\n" + "\n".join(gone)


def test_the_language_checker_sees_a_query(tmp_path: Path) -> None:
    source = tmp_path / "x.py"
    source.write_text("def f(session: Session, ids: set[int], *, lang: str) -> None: ...\n", encoding="utf-8")
    assert list(reads_in_a_language(source)) == ["f"]
