"""Jinja2 set-up: templates from templates/, gettext in every template, fragments for htmx."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks

from mel.i18n import format_day, format_number, translations
from mel.paths import TEMPLATES_DIR
from mel.results.figures import round1


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context.get("lang", "en")).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context.get("lang", "en")).ngettext(singular, plural, n)


@pass_context
def _number(context: Context, value: Any, digits: int = 0) -> str:
    """Numbers as the viewer reads them (``1,480.5`` in English, ``1480,5`` in Spanish): Babel, no float noise."""
    return format_number(value, context.get("lang", "en"), digits)


@pass_context
def _date(context: Context, value: Any, style: str = "medium") -> str:
    """A date in the viewer's language (``30 Sept 2019`` / ``30 sept 2019``); the ISO form stays in ``datetime``."""
    return format_day(value, context.get("lang", "en"), style)


def make_templates() -> Jinja2Blocks:
    templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    env.filters["date"] = _date
    env.filters["round1"] = round1
    env.globals["languages"] = ("en", "es")
    return templates
