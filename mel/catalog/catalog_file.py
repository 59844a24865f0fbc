"""A catalog file read with the line of every key, and its fields read into ``file:line: key: message`` problems.

YAML parsers forget where a key was written; the loader here keeps it (``LineDict``), so that every
refusal of ``mel.catalog.schema`` can point at the line to edit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class CatalogError(Exception):
    """A catalog file was refused; ``problems`` holds every ``file:line: key: message``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class LineDict(dict[str, Any]):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0
    lines: dict[str, int]


_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's parser where PyYAML was built with it (its wheels are): the same documents and marks, about
ten times faster than the pure-Python parser (both shipped catalogs: 8 against 85 ms)."""


class _Loader(_SAFE_LOADER):  # type: ignore[valid-type,misc]
    duplicate_keys: list[tuple[str, int]]


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key)
        line = key_node.start_mark.line + 1
        if key in result.lines:
            loader.duplicate_keys.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass
class Problems:
    file: str
    items: list[str] = field(default_factory=list)

    def add(self, line: int, key: str, message: str) -> None:
        self.items.append(f"{self.file}:{line}: {key}: {message}")


def read_catalog_yaml(path: Path, p: Problems) -> Any:
    """The YAML of ``path`` with ``LineDict`` mappings; a key written twice becomes a problem in ``p``.

    An unreadable file or invalid YAML raises ``CatalogError`` at once: nothing else can be checked.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([f"{name}:1: file: cannot be read ({exc.strerror})"]) from exc
    loader = _Loader(text)
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise CatalogError([f"{name}:{line}: yaml: {getattr(exc, 'problem', exc)}"]) from exc
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        p.add(line, key, "key written twice in the same mapping")
    return data


def _line(obj: Any, key: str | None = None, default: int = 1) -> int:
    if isinstance(obj, LineDict):
        if key is not None and key in obj.lines:
            return obj.lines[key]
        return obj.line
    return default


def _as_list(p: Problems, obj: Any, key: str, where: str) -> list[Any]:
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        p.add(_line(obj, key), f"{where}.{key}", "expected a list")
        return []
    return value


def _date(p: Problems, obj: LineDict, key: str, where: str) -> dt.date | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        p.add(_line(obj, key), f"{where}.{key}", f"{value!r} is not a date (write YYYY-MM-DD)")
        return None


def _number(p: Problems, obj: LineDict, key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        p.add(_line(obj, key), f"{where}.{key}", f"{value!r} is not a number")
        return None
    return float(value)


def _enum(p: Problems, obj: LineDict, key: str, where: str, allowed: Iterable[str]) -> None:
    value = obj.get(key)
    if value is not None and value not in allowed:
        p.add(_line(obj, key), f"{where}.{key}", f"{value!r} is not one of {', '.join(allowed)}")


def _codes(p: Problems, items: list[Any], where: str) -> dict[str, LineDict]:
    seen: dict[str, LineDict] = {}
    for item in items:
        if not isinstance(item, LineDict) or "code" not in item:
            continue
        code = str(item["code"])
        if code in seen:
            p.add(_line(item, "code"), f"{where}.{code}", f"duplicate code (first defined on line {seen[code].line})")
        else:
            seen[code] = item
    return seen
