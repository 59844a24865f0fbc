"""Reading one cell as a number, a yes/no or a date, the way REPORT-FORMAT.md says, fast.

Each reader returns ``(value, code)``: ``code`` None and ``value`` None is an empty cell (nothing
reported); ``code`` ``NOT_REPORTED`` is an "N/A"-like word (nothing reported, listed as
information); any other code is the contract's error code for that cell. Callers look at the
cell's ``Special`` (formula without value, error cell, percent format) first: see ``special_code``.
"""

from __future__ import annotations

import datetime as dt
import re

from mel.core.text import norm
from mel.reports.vocab import NO, YES, not_reported
from mel.workbooks.book import Special

NOT_REPORTED = "not_reported"

_SPACE = "[ \u00a0\u202f\u2009]"
_INT = re.compile(r"\d+")
_SPACE_THOUSANDS = re.compile(rf"([1-9]\d{{0,2}}(?:{_SPACE}\d{{3}})+)(?:[.,](\d+))?")
_COMMA_THOUSANDS = re.compile(r"([1-9]\d{0,2}(?:,\d{3})+)(?:\.(\d+))?")
_DOT_THOUSANDS_DECIMAL = re.compile(r"([1-9]\d{0,2}(?:\.\d{3})+),(\d+)")
_DOT_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")
_DECIMAL = re.compile(r"(\d*)[.,](\d+)|(\d+)[.,]")

Read = tuple[float | None, str | None]


def special_code(special: Special | None) -> str | None:
    """The error a hidden cell is, whatever its column: a formula without value or an error cell."""
    if special is None or special.kind == "percent":
        return None
    return "formula_without_value" if special.kind == "formula_without_value" else "cell_error"


def parse_number_text(text: str) -> tuple[float | None, str | None, bool]:
    """(number, code, had a % sign) of a text cell; code is None, NOT_REPORTED or an error code."""
    s = text.strip()
    if not s:
        return None, None, False
    if not_reported(s):
        return None, NOT_REPORTED, False
    percent = s.endswith("%")
    if percent:
        s = s[:-1].rstrip()
    sign = 1.0
    if s[:1] in ("-", "\u2212", "+"):
        sign = -1.0 if s[0] != "+" else 1.0
        s = s[1:].lstrip()
    if not s:
        return None, "not_a_number", percent
    if _INT.fullmatch(s):
        return sign * int(s), None, percent
    m = _SPACE_THOUSANDS.fullmatch(s) or _COMMA_THOUSANDS.fullmatch(s)
    if m:
        whole = re.sub(r"\D", "", m.group(1))
        return sign * float(f"{whole}.{m.group(2) or 0}"), None, percent
    m = _DOT_THOUSANDS_DECIMAL.fullmatch(s)
    if m:
        return sign * float(f"{m.group(1).replace('.', '')}.{m.group(2)}"), None, percent
    if _DOT_THOUSANDS.fullmatch(s):
        return None, "ambiguous_number", percent
    m = _DECIMAL.fullmatch(s)
    if m:
        if m.group(3) is not None:
            return sign * int(m.group(3)), None, percent
        return sign * float(f"{m.group(1) or 0}.{m.group(2)}"), None, percent
    return None, "not_a_number", percent


def read_number(raw: object, special: Special | None, *, scale_percent: bool) -> tuple[float | None, str | None, bool]:
    """Any cell as a number: (number, code, written as a percentage).

    ``scale_percent``: a numeric cell formatted as a percentage is read as shown (0.45 -> 45).
    """
    if special is not None:
        code = special_code(special)
        if code:
            return None, code, False
    kind = type(raw)
    if kind is float or kind is int:
        number = float(raw)  # type: ignore[arg-type]
        if special is not None and scale_percent:
            return round(number * 100, 9), None, True
        return number, None, False
    if kind is str:
        return parse_number_text(raw)  # type: ignore[arg-type]
    if raw is None:
        return None, None, False
    return None, "not_a_number", False


def read_count(raw: object, special: Special | None) -> Read:
    """A whole number >= 0."""
    number, code, percent = read_number(raw, special, scale_percent=False)
    if code or number is None:
        return None, code
    if percent:
        return None, "not_a_number"
    if number < 0:
        return None, "negative_value"
    if not number.is_integer():
        return None, "not_an_integer"
    return number, None


def read_percent(raw: object, special: Special | None) -> Read:
    """0 to 100; a percent-formatted cell is read as shown, "45 %" is 45, a plain number as is."""
    number, code, _percent = read_number(raw, special, scale_percent=True)
    if code or number is None:
        return None, code
    if not 0 <= number <= 100:
        return None, "out_of_range"
    return number, None


def read_yes_no(raw: object, special: Special | None) -> Read:
    """yes/no, sí/si/no, true/false, 1/0 -> 1.0 or 0.0."""
    code = special_code(special)
    if code:
        return None, code
    if raw is True or raw is False:
        return (1.0 if raw else 0.0), None
    if type(raw) is float or type(raw) is int:
        if raw in (0, 1):
            return float(raw), None
        return None, "out_of_range"
    if isinstance(raw, str):
        if not raw.strip():
            return None, None
        key = norm(raw)
        if key in YES:
            return 1.0, None
        if key in NO:
            return 0.0, None
        if not_reported(raw):
            return None, NOT_REPORTED
        return None, "not_a_number"
    if raw is None:
        return None, None
    return None, "not_a_number"


def read_value(raw: object, special: Special | None, unit: str) -> Read:
    """An indicator value by the indicator's unit."""
    if unit == "count":
        return read_count(raw, special)
    if unit == "percent":
        return read_percent(raw, special)
    return read_yes_no(raw, special)


def read_any(raw: object, special: Special | None) -> Read:
    """A value whose unit is unknown (its indicator is): only what is wrong whatever the unit."""
    number, code, _percent = read_number(raw, special, scale_percent=True)
    if code == "not_a_number" and isinstance(raw, str) and (norm(raw) in YES or norm(raw) in NO):
        return None, None
    return number, code


# ---------------------------------------------------------------------------------------------
# Dates

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_YEAR = re.compile(r"(\d{4})")


def read_date(raw: object, special: Special | None) -> tuple[dt.date | None, str | None]:
    """A date cell, or text yyyy-mm-dd, dd/mm/yyyy (day first), dd-mm-yyyy."""
    code = special_code(special)
    if code:
        return None, code
    if isinstance(raw, dt.datetime):
        return raw.date(), None
    if isinstance(raw, dt.date):
        return raw, None
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if not isinstance(raw, str):
        return None, "bad_date"
    text = raw.strip()
    m = _ISO.fullmatch(text)
    parts = (m.group(1), m.group(2), m.group(3)) if m else None
    if parts is None:
        m = _DAY_FIRST.fullmatch(text)
        parts = (m.group(3), m.group(2), m.group(1)) if m else None
    if parts is None:
        return None, "bad_date"
    try:
        return dt.date(int(parts[0]), int(parts[1]), int(parts[2])), None
    except ValueError:
        return None, "bad_date"


def read_date_or_year(raw: object, special: Special | None) -> tuple[str | None, str | None]:
    """A measurement date: ``2022`` (a year, number or text) or ``2022-05-31`` (a date)."""
    if type(raw) is float or type(raw) is int:
        if special_code(special):
            return None, special_code(special)
        number = float(raw)
        if number.is_integer() and 1900 <= number <= 2100:
            return str(int(number)), None
        return None, "bad_date"
    if isinstance(raw, str) and _YEAR.fullmatch(raw.strip()):
        year = int(raw.strip())
        return (str(year), None) if 1900 <= year <= 2100 else (None, "bad_date")
    day, code = read_date(raw, special)
    return (day.isoformat() if day else None), code


def display(raw: object) -> str:
    """A cell as a message quotes it: 12 rather than 12.0, dates in ISO form."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.date().isoformat() if raw.time() == dt.time() else raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    text = str(raw).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
