"""English and Spanish: every marked message has a Spanish translation; the language is chosen right."""

from __future__ import annotations

from babel.messages.pofile import read_po

from mel.core.i18n import Bilingual, pick_language, po_files, t
from mel.core.i18n_extract import extracted_messages


def _spanish() -> list:
    messages = []
    for path in po_files("es"):
        with path.open("rb") as fh:
            messages.extend(read_po(fh, locale="es"))
    return messages


def test_spanish_catalog_is_complete() -> None:
    translated = {m.id for m in _spanish() if m.id and m.string and not m.fuzzy}
    messages = list(extracted_messages())
    assert len(messages) > 20
    missing = sorted({f"{f}:{line}: {msg}" for msg, f, line in messages if msg not in translated})
    assert not missing, "untranslated messages (run scripts/update_po.py and fill them):\n" + "\n".join(missing)


def test_placeholders_survive_translation() -> None:
    import string

    for message in _spanish():
        if not message.id or not message.string:
            continue
        names = {f for _, f, _, _ in string.Formatter().parse(str(message.id)) if f}
        got = {f for _, f, _, _ in string.Formatter().parse(str(message.string)) if f}
        assert names == got, (message.id, message.string)


def test_t_translates_and_formats() -> None:
    assert t("es", "Portfolio") == "Cartera"
    assert t("en", "Portfolio") == "Portfolio"
    assert t("fr", "Portfolio") == "Portfolio"


def test_pick_language_order() -> None:
    assert pick_language(explicit="es", user_lang="en", accept="en", default="en") == "es"
    assert pick_language(explicit=None, user_lang="es", accept="en", default="en") == "es"
    assert pick_language(explicit=None, user_lang=None, accept="fr-FR,es;q=0.8,en;q=0.5", default="en") == "es"
    assert pick_language(explicit=None, user_lang=None, accept="de", default="es") == "es"
    assert pick_language(explicit="xx", user_lang=None, accept=None, default="en") == "en"


def test_a_bilingual_name_is_picked_when_shown() -> None:
    name = Bilingual("Region", "Región")
    assert (name.label("en"), name.label("es")) == ("Region", "Región")
    assert Bilingual("ILO").label("es") == "ILO"  # no Spanish name: the English one stands in
    assert Bilingual("Lima", "").label("es") == "Lima"
