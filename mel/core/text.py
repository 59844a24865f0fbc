"""Matching text the way partners type it: case, accents, whitespace and punctuation do not matter."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=65536)
def norm(text: object) -> str:
    """'Región ' -> 'region'; 'Grupo de edad' -> 'grupodeedad'; '12-17' -> '1217'."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub("", stripped)
