"""Numbers for the viewer's locale: the fast formatter must print exactly what Babel prints."""

from __future__ import annotations

import random

import pytest
from babel.numbers import format_decimal

from mel.core.i18n import format_number


@pytest.mark.parametrize("lang", ["en", "es"])
def test_format_number_matches_babel(lang: str) -> None:
    rng = random.Random(20261129)
    values = [0, 7, 999, 1000, 1480, 9999, 10000, 14800, 1234567, -1480, -14800.5, 0.05, 2.25, 63.15]
    values += [rng.randint(-50_000, 5_000_000) for _ in range(500)]
    values += [round(rng.uniform(-1e5, 1e6), rng.randint(0, 4)) for _ in range(500)]
    for value in values:
        for digits in (0, 1, 2):
            number = float(value)
            if digits == 0 and number.is_integer():
                expected = format_decimal(int(number), format="#,##0", locale=lang)
            else:
                places = digits or 1
                expected = format_decimal(round(number, places), format="#,##0." + "0" * places, locale=lang)
            assert format_number(value, lang, digits) == expected, (value, digits)
    assert format_number(14800, "es") == "14.800" and format_number(14800, "en") == "14,800"
    assert format_number(None, lang) == "—"
