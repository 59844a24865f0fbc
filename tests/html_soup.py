"""Pages read through BeautifulSoup: whole documents with the lxml builder, fragments with html.parser.

lxml builds the same tree as the stdlib parser for our pages (only the line break between the doctype
and <html> is dropped) and is faster. It wraps a fragment in <html><body>, though, and tests check that
an htmx answer is a fragment (no <html> element): fragments keep html.parser, which adds nothing.
"""

from __future__ import annotations

from bs4 import BeautifulSoup


def soup(html: str) -> BeautifulSoup:
    """The parsed page; a whole document (it starts with its doctype) goes to lxml."""
    document = html.lstrip()[:15].lower().startswith("<!doctype html")
    return BeautifulSoup(html, "lxml" if document else "html.parser")
