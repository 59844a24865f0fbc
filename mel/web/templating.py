"""Jinja2 set-up: templates from templates/, gettext in every template, fragments for htmx."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks

from mel.i18n import translations
from mel.paths import TEMPLATES_DIR


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context.get("lang", "en")).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translations(context.get("lang", "en")).ngettext(singular, plural, n)


def _number(value: Any, digits: int = 0) -> str:
    """Numbers as people read them in reports: thousands separated, no float noise."""
    if value is None or value == "":
        return "—"
    number = float(value)
    if digits == 0 and number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.{digits or 1}f}"


def make_templates() -> Jinja2Blocks:
    templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    env.globals["languages"] = ("en", "es")
    return templates
