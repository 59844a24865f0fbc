"""Stage (ordinal) indicators: named, ordered levels instead of numbers.

A protocol moves from drafted to approved to budgeted to applied; an office's capacity is scored
on a rubric of 1 to 4. Such an indicator has ``unit: stage`` and its ``levels`` in the catalog:

```yaml
  - code: 4.1.c
    unit: stage
    aggregation: latest
    levels:
      - {code: drafted, en: Drafted, es: Elaborado, description: ..., description_es: ..., aliases: [draft]}
      - {code: approved, en: Approved, es: Aprobado}
```

A stored value is the level's number (1 for the first). Numbers of a stage are ranks, not
quantities: they are never summed or averaged across partners, regions or periods; pages count how
many units stand at each level and how many moved up or down. A cell may hold a level's number,
code, English or Spanish name, or an alias.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mel.core.i18n import in_language
from mel.core.text import norm

LEVEL_KEYS = frozenset({"code", "en", "es", "description", "description_es", "aliases"})
REQUIRED_LEVEL_KEYS = frozenset({"code", "en", "es"})


@dataclass(frozen=True, slots=True)
class Level:
    """One level of a stage indicator; ``number`` is its rank, 1 for the first."""

    number: int
    code: str
    en: str
    es: str
    description: str | None = None
    description_es: str | None = None
    aliases: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return in_language(lang, self.en, self.es)

    def describe(self, lang: str) -> str | None:
        return (self.description_es or self.description) if lang == "es" else self.description


@dataclass(frozen=True, slots=True)
class Scale:
    """The ordered levels of one stage indicator, with every spelling a cell may use."""

    levels: tuple[Level, ...]

    @classmethod
    def of(cls, stored: Iterable[Mapping[str, Any]] | None) -> Scale | None:
        """The scale of an indicator's stored ``levels`` (None for any other indicator)."""
        if not stored:
            return None
        levels = tuple(
            Level(
                number=n,
                code=str(item["code"]),
                en=str(item["en"]),
                es=str(item["es"]),
                description=item.get("description"),
                description_es=item.get("description_es"),
                aliases=tuple(str(a) for a in item.get("aliases") or ()),
            )
            for n, item in enumerate(stored, start=1)
        )
        return cls(levels)

    def __len__(self) -> int:
        return len(self.levels)

    def level(self, number: float | None) -> Level | None:
        """The level a stored number stands for (None for a number that is no level)."""
        if number is None or not float(number).is_integer() or not 1 <= number <= len(self.levels):
            return None
        return self.levels[int(number) - 1]

    def label(self, number: float | None, lang: str) -> str | None:
        level = self.level(number)
        return level.label(lang) if level else None

    def code(self, number: float | None) -> str | None:
        level = self.level(number)
        return level.code if level else None

    def find(self, raw: object) -> Level | None:
        """The level a cell names: its number, code, English or Spanish name, or an alias."""
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            return self.level(float(raw))
        text = str(raw).strip()
        if not text:
            return None
        if text.isdigit():
            return self.level(float(text))
        return self._names().get(norm(text))

    def _names(self) -> dict[str, Level]:
        names: dict[str, Level] = {}
        for level in self.levels:
            for name in (level.code, level.en, level.es, *level.aliases):
                names.setdefault(norm(name), level)
        return names

    def choices(self, lang: str) -> str:
        """``1 Drafted, 2 Approved, ...`` for messages."""
        return ", ".join(f"{lv.number} {lv.label(lang)}" for lv in self.levels)

    def stored(self) -> list[dict[str, Any]]:
        """The JSON kept on the indicator row."""
        return [
            {
                "code": lv.code,
                "en": lv.en,
                "es": lv.es,
                "description": lv.description,
                "description_es": lv.description_es,
                "aliases": list(lv.aliases),
            }
            for lv in self.levels
        ]


def stored_levels(item: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """What a catalog indicator entry stores as its ``levels`` (None when it has none)."""
    scale = Scale.of(item.get("levels")) if item.get("unit") == "stage" else None
    return scale.stored() if scale else None


Add = Callable[[int, str, str], None]


def _line(obj: Any, key: str | None = None) -> int:
    lines = getattr(obj, "lines", None)
    if key is not None and isinstance(lines, dict) and key in lines:
        return int(lines[key])
    return int(getattr(obj, "line", 1) or 1)


def check_catalog(add: Add, data: Mapping[str, Any]) -> None:
    """Problems of the stage indicators (and of ``levels``/``new_participants_only`` anywhere)."""
    for ind in data.get("indicators") or []:
        if isinstance(ind, Mapping):
            check_indicator(add, ind, f"indicators.{ind.get('code')}")


def check_indicator(add: Add, ind: Mapping[str, Any], where: str) -> None:
    """Levels present exactly for ``unit: stage``, two or more, each complete, no name used twice;
    aggregation ``latest``; baseline and target are level numbers."""
    if "new_participants_only" in ind:
        flag = ind["new_participants_only"]
        if not isinstance(flag, bool):
            add(_line(ind, "new_participants_only"), f"{where}.new_participants_only", "write true or false")
        elif flag and ind.get("unit") != "count":
            add(
                _line(ind, "new_participants_only"),
                f"{where}.new_participants_only",
                "only a count of people trained can count new participants only",
            )
    levels = ind.get("levels")
    if ind.get("unit") != "stage":
        if levels is not None:
            add(_line(ind, "levels"), f"{where}.levels", "only a stage indicator (unit: stage) has levels")
        return
    if ind.get("aggregation") not in (None, "latest"):
        add(
            _line(ind, "aggregation"),
            f"{where}.aggregation",
            "a stage is never summed over periods; use aggregation: latest",
        )
    if not isinstance(levels, list) or len(levels) < 2:
        add(
            _line(ind, "levels" if "levels" in ind else None),
            f"{where}.levels",
            "a stage indicator needs two or more levels",
        )
        return
    owner: dict[str, str] = {}
    codes: set[str] = set()
    for n, level in enumerate(levels, start=1):
        at = f"{where}.levels.{n}"
        if not isinstance(level, Mapping):
            add(_line(ind, "levels"), at, "expected a mapping with code, en and es")
            continue
        for key in sorted(set(level) - LEVEL_KEYS):
            add(_line(level, key), f"{at}.{key}", f"unknown key (allowed: {', '.join(sorted(LEVEL_KEYS))})")
        for key in sorted(REQUIRED_LEVEL_KEYS - set(level)):
            add(_line(level), f"{at}.{key}", "required key is missing")
        aliases = level.get("aliases") or []
        if not isinstance(aliases, list):
            add(_line(level, "aliases"), f"{at}.aliases", "expected a list")
            aliases = []
        code = str(level.get("code"))
        if code in codes:
            add(_line(level, "code"), f"{at}.code", f"duplicate level code {code!r}")
        codes.add(code)
        names = [level.get(k) for k in ("code", "en", "es")] + list(aliases)
        for name in {norm(str(x)) for x in names if x is not None}:
            if name.isdigit():
                add(_line(level), at, f"{name!r} is a number: level names must not be numbers")
            elif owner.get(name, code) != code:
                add(_line(level), at, f"name {name!r} is also used by level {owner[name]!r}")
            owner.setdefault(name, code)
    for key in ("baseline", "target"):
        block = ind.get(key)
        value = block.get("value") if isinstance(block, Mapping) else None
        if value is not None and not (
            isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= len(levels)
        ):
            add(_line(block, "value"), f"{where}.{key}.value", f"write a level number, 1 to {len(levels)}")
