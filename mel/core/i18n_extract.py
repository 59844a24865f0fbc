"""Finding every translatable message in the code and templates (for the catalog check and updates)."""

from __future__ import annotations

from collections.abc import Iterator

from babel.messages.extract import extract_from_dir

from mel.core.paths import DEMO_DIR, PACKAGE_DIR, TEMPLATES_DIR

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "t": (2,), "N_": None}


def extracted_messages() -> Iterator[tuple[str, str, int]]:
    """(message, file, line) for every message marked in Python (``t(lang, "...")``) or Jinja (``_("...")``)."""
    sources = [
        (PACKAGE_DIR, [("**.py", "python")]),
        (TEMPLATES_DIR, [("**.html", "jinja2")]),
    ]
    if DEMO_DIR.is_dir():  # a checkout: the demo's messages are translated too
        sources.append((DEMO_DIR, [("**.py", "python")]))
    for root, method_map in sources:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(root),
            method_map=method_map,
            keywords=KEYWORDS,
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            messages = message if isinstance(message, tuple) else (message,)
            for msg in messages:
                if msg:
                    yield msg, f"{root.name}/{filename}", lineno
