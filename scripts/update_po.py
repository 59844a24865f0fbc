"""Add every newly marked message to a Spanish catalog file (with an empty translation to fill in).

The Spanish catalog is split by area (``mel/locale/es/LC_MESSAGES/*.po``) so that separate pieces of
work do not edit one file. ``python scripts/update_po.py [AREA]`` adds the messages that no file has
yet to ``AREA.po`` (default ``messages``) and drops, from every file, messages no longer marked.
``--add-only`` writes ``AREA.po`` alone and drops nothing (for work in progress beside other changes).
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from mel.core.i18n import po_files
from mel.core.i18n_extract import extracted_messages
from mel.core.paths import LOCALE_DIR


def _read(path: object) -> Catalog:
    with open(str(path), "rb") as fh:
        return read_po(fh, locale="es")


def main(area: str = "messages", add_only: bool = False) -> None:
    target = LOCALE_DIR / "es" / "LC_MESSAGES" / f"{area}.po"
    target.parent.mkdir(parents=True, exist_ok=True)
    files = {path: _read(path) for path in po_files("es")}
    if target not in files:
        files[target] = Catalog(locale="es", project="mel")
    known = {m.id for catalog in files.values() for m in catalog if m.id}
    seen: set[str] = set()
    for message, filename, line in extracted_messages():
        seen.add(message)
        if message not in known:
            files[target].add(message, "", locations=[(filename, line)])
            known.add(message)
    for path, catalog in files.items():
        if add_only and path != target:
            continue
        obsolete = [] if add_only else [m.id for m in catalog if m.id and m.id not in seen]
        for msgid in obsolete:
            del catalog[msgid]
        with path.open("wb") as fh:
            write_po(fh, catalog, width=110, no_location=True, sort_output=True)
        empty = [m.id for m in catalog if m.id and not m.string]
        print(f"{path.name}: {len(catalog)} messages, {len(empty)} without translation, {len(obsolete)} removed")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(*args[:1], add_only="--add-only" in sys.argv)
