"""Jinja2 set-up: templates from templates/, gettext in every template, fragments for htmx."""

from __future__ import annotations

import functools
from typing import Any

from babel import Locale
from jinja2 import pass_context
from jinja2.runtime import Context
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from mel.catalog.stages import Scale
from mel.core.i18n import format_day, format_number, translations
from mel.core.paths import TEMPLATES_DIR
from mel.results.figures import round1
from mel.web import static
from mel.web.policy import route_policies


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translations(context.get("lang", "en")).gettext(message)


_TRANSLATED: dict[tuple[str, str, bool], str] = {}
_MAX_TRANSLATED = 20_000


@pass_context
def _fast_gettext(context: Context, message: str, /, **variables: Any) -> str:
    """Jinja's newstyle ``_()`` (``gettext`` translated, marked safe under autoescape, then ``% variables``)
    in one call, remembering the answers without variables: a page asks for a few hundred."""
    autoescape = bool(context.eval_ctx.autoescape)
    key = (context.get("lang", "en"), message, autoescape)
    if not variables and key in _TRANSLATED:
        return _TRANSLATED[key]
    found: str = translations(key[0]).gettext(message)
    if autoescape:
        found = Markup(found)
    found = found % variables
    if not variables and len(_TRANSLATED) < _MAX_TRANSLATED:
        _TRANSLATED[key] = found
    return found


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


@pass_context
def _stage(context: Context, value: Any, levels: Any) -> str:
    """A stage indicator's value by its level's name in the viewer's language (the number when unknown)."""
    scale = Scale.of(levels)
    label = scale.label(value, context.get("lang", "en")) if scale else None
    return label or format_number(value, context.get("lang", "en"), 0)


@pass_context
def _country(context: Context, code: str | None) -> str:
    """A country's name in the viewer's language (``PE``: Peru / Perú); the code when Babel has no name."""
    if not code:
        return "—"
    return str(Locale.parse(context.get("lang", "en")).territories.get(code.upper(), code))


@pass_context
def _may(context: Context, route: str) -> bool:
    """``may("quality_home")``: whether the viewer may open the named route, by that route's own policy."""
    return route_policies(context["request"].app)[route].allows(context.get("user"))


@functools.cache
def make_templates() -> Jinja2Blocks:
    """One environment per process, shared by every app it makes: templates compile once."""
    templates = Jinja2Blocks(directory=str(TEMPLATES_DIR))
    env = templates.env
    env.auto_reload = False
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(gettext=_gettext, ngettext=_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["number"] = _number
    env.filters["date"] = _date
    env.filters["stage"] = _stage
    env.filters["country"] = _country
    env.filters["round1"] = round1
    env.globals["languages"] = ("en", "es")
    env.globals["may"] = _may
    env.globals["url_for"] = static.url_for  # static files under a versioned, long-cached URL
    env.globals["gettext"] = env.globals["_"] = _fast_gettext  # same answers, one call instead of three
    return templates
