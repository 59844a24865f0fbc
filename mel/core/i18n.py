"""One translation mechanism for pages, messages and workbooks: gettext catalogs read with Babel.

Catalogs live in ``mel/locale/<lang>/LC_MESSAGES/*.po`` (one file per area of the product, merged
at start-up) and are read as text (no compiled .mo to keep in step). English is the source language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from babel.support import NullTranslations, Translations

from mel.core.paths import LOCALE_DIR

LANGUAGES = ("en", "es")


def po_files(lang: str) -> list[Path]:
    """The catalog files of ``lang``, in a stable order."""
    return sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))


@cache
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    from babel.messages.pofile import read_po  # here: English (``mel import`` by default) reads no catalog

    result = Translations()
    for path in po_files(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                key = message.id if isinstance(message.id, str) else message.id[0]
                result._catalog[key] = message.string if isinstance(message.string, str) else message.string[0]
    return result


def t(lang: str, message: str, **params: Any) -> str:
    """Translate ``message`` into ``lang`` and fill its ``{named}`` parameters."""
    text = translations(lang if lang in LANGUAGES else "en").gettext(message)
    return text.format(**params) if params else text


def in_language(lang: str, english: str, spanish: str | None) -> str:
    """The Spanish text for a Spanish reader when there is one, else the English: every bilingual
    name (partnership, dimension, category, result, indicator, event) is chosen by this one rule."""
    return spanish if lang == "es" and spanish else english


@dataclass(frozen=True)
class Bilingual:
    """A catalog name in both languages, as a query reads it: the page picks one when it renders
    (``label(lang)``), so what is read does not depend on who reads it."""

    en: str
    es: str | None = None

    def label(self, lang: str) -> str:
        return in_language(lang, self.en, self.es)

    def after(self, prefix: str) -> Bilingual:
        """The name behind ``prefix`` in both languages (``"2.a · "``: the indicator's code)."""
        return Bilingual(prefix + self.en, prefix + self.es if self.es else None)


def N_(message: str) -> str:
    """Mark a message for extraction (``mel.core.i18n_extract``) where it is defined; it is translated
    with ``t`` where it is shown, in the reader's language."""
    return message


def pick_language(*, explicit: str | None, user_lang: str | None, accept: str | None, default: str) -> str:
    """The language of a request: an explicit choice, the user's setting, the browser's, else the default."""
    for choice in (explicit, user_lang):
        if choice in LANGUAGES:
            return choice
    if accept:
        ranked = []
        for part in accept.split(","):
            piece = part.strip().split(";")
            tag = piece[0].strip().lower()[:2]
            q = 1.0
            for param in piece[1:]:
                if param.strip().startswith("q="):
                    try:
                        q = float(param.strip()[2:])
                    except ValueError:
                        q = 0.0
            ranked.append((q, tag))
        for _q, tag in sorted(ranked, key=lambda item: -item[0]):
            if tag in LANGUAGES:
                return tag
    return default if default in LANGUAGES else "en"


def format_number(value: Any, lang: str, digits: int = 0) -> str:
    """A number in ``lang``'s conventions (Babel/CLDR): whole numbers without decimals, else ``digits`` (≥ 1).

    Thousands and decimals take the locale's symbols (``1,480.5`` / ``1.480,5``), exactly as Babel's
    ``format_decimal`` prints them (a test compares the two).
    """
    if value is None or value == "":
        return "—"
    number = float(value)
    group, decimal, grouped_from = _number_style(lang if lang in LANGUAGES else "en")
    if digits == 0 and number.is_integer():
        text = str(int(number))
    else:
        places = digits or 1
        text = f"{round(number, places):.{places}f}"
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _dot, fraction = text.partition(".")
    if len(whole) >= grouped_from:  # a page has hundreds of numbers: Babel's symbols, applied here
        whole = f"{int(whole):,}".replace(",", group)
    return sign + whole + (decimal + fraction if fraction else "")


@cache
def _number_style(locale: str) -> tuple[str, str, int]:
    """(group symbol, decimal symbol, digits from which thousands are grouped) of ``locale``, from Babel."""
    group = get_group_symbol(locale)
    grouped_from = 4 if group in format_decimal(1000, format="#,##0", locale=locale) else 5
    return group, get_decimal_symbol(locale), grouped_from


def format_day(value: Any, lang: str, style: str = "medium") -> str:
    """A date in ``lang`` (``30 Sept 2019`` / ``30 sept 2019``); strings in ISO form are parsed first."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    return format_date(value, format=style, locale=lang if lang in LANGUAGES else "en")
