"""The fixed words of REPORT-FORMAT.md: sheet names, labels, headers, pillars, sections, rounds, yes/no.

Every name is stored as ``norm(name)`` so that a lookup is one dict access per cell. The
catalog's own words (partners, dimensions, categories, indicator codes) live in
``mel.reports.matching``; these are the ones the contract itself fixes, in English and Spanish.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from mel.core.text import norm


def _keys(table: dict[str, Iterable[str]]) -> dict[str, str]:
    """{canonical: [names]} -> {norm(name): canonical}; the canonical name is accepted too."""
    keys: dict[str, str] = {}
    for canonical, names in table.items():
        for name in (canonical, *names):
            keys.setdefault(norm(name), canonical)
    return keys


SHEETS = _keys(
    {
        "cover": ["Cover", "Portada"],
        "indicators": ["Indicators", "Indicadores"],
        "trainings": ["Trainings", "Capacitaciones"],
        "narrative": ["Narrative", "Narrativa"],
        "followup": ["Follow-up", "Follow up", "Seguimiento"],
        "measurements": ["Measurements", "Mediciones"],
    }
)

COVER_LABELS = _keys(
    {
        "partner": ["Partner", "Socio", "Socio implementador", "Organización"],
        "period": ["Period", "Periodo", "Período", "Trimestre"],
        "prepared_by": ["Prepared by", "Elaborado por", "Responsable"],
        "date": ["Date", "Fecha"],
    }
)

INDICATOR_COLUMNS = _keys(
    {
        "indicator": ["indicador", "code", "código", "indicator code"],
        "value": ["valor", "cantidad", "result", "resultado"],
        "comment": ["comments", "comentario", "comentarios", "notes", "notas", "observaciones"],
        "numerator": ["numerador"],
        "denominator": ["denominador"],
    }
)
REFERENCE_COLUMNS = frozenset(norm(n) for n in ("Description", "Descripción", "Unit", "Unidad"))
"""The template's read-only description and unit columns: known, and ignored without a notice."""

TRAINING_COLUMNS = _keys(
    {
        "title": ["título", "event", "evento", "actividad", "training", "capacitación"],
        "start_date": ["date", "fecha", "fecha de inicio", "inicio", "start date"],
        "end_date": ["fecha de fin", "fin", "end date"],
        "pillar": ["pilar", "eje"],
        "region": ["región", "departamento"],
        "modality": ["modalidad"],
        "institution": ["institución", "entidad"],
        "female": ["women", "mujeres", "femenino"],
        "male": ["men", "hombres", "masculino"],
        "other": ["not recorded", "otro", "no registrado"],
        "under_18": ["menores de 18", "menores", "under 18"],
        "hours": ["horas", "duración"],
        "pre_score": ["pre-test", "puntaje pre", "prueba de entrada"],
        "post_score": ["post-test", "puntaje post", "prueba de salida"],
        "repeat": ["repetidos", "repeat participants", "participantes repetidos", "ya capacitados"],
    }
)
REQUIRED_TRAINING = ("title", "start_date", "pillar", "region", "modality", "institution", "female", "male")

FOLLOWUP_COLUMNS = _keys(
    {
        "title": ["título", "event", "evento", "training", "capacitación", "actividad"],
        "start_date": ["start date", "date", "fecha", "fecha de inicio", "inicio"],
        "training_period": ["training quarter", "trimestre de la capacitación", "trimestre"],
        "institution": ["institución", "entidad"],
        "months": ["months after", "months later", "meses", "meses después"],
        "participants": ["participantes", "trained", "capacitados"],
        "reached": ["reached", "contactados", "ubicados", "alcanzados"],
        "in_post": ["still in post", "in post", "en el puesto", "siguen en el puesto", "permanecen"],
        "applying": ["applying skills", "applying", "aplican", "aplican lo aprendido"],
    }
)
REQUIRED_FOLLOWUP = ("months", "reached", "in_post", "applying")

NARRATIVE_COLUMNS = _keys({"section": ["sección", "tipo"], "text": ["texto", "descripción"]})

MEASUREMENT_COLUMNS = _keys(
    {
        "indicator": ["indicador", "code", "código", "indicator code"],
        "round": ["ronda", "medición"],
        "date": ["fecha", "year", "año"],
        "value": ["valor"],
        "source": ["fuente"],
        "comparable": ["comparable con línea de base"],
        "note": ["nota", "notas", "observaciones"],
        "partnership": ["alianza"],
        "sample_size": ["tamaño de muestra", "n", "muestra", "sample size"],
        "margin_of_error": ["margen de error", "moe", "margin of error"],
    }
)
REQUIRED_MEASUREMENT = ("indicator", "round", "date", "value")

PILLARS = _keys(
    {
        "prosecution": ["persecución", "prosecution"],
        "protection": ["protección"],
        "prevention": ["prevención"],
    }
)
SECTIONS = _keys(
    {
        "achievements": ["logros"],
        "challenges": ["desafíos", "retos"],
        "adaptations": ["adaptaciones"],
        "context": ["contexto"],
    }
)
ROUNDS = _keys(
    {
        "baseline": ["línea de base", "linea base"],
        "midline": ["medio término"],
        "endline": ["línea final", "evaluación final"],
    }
)

YES = frozenset(norm(w) for w in ("yes", "sí", "si", "true", "verdadero", "1"))
NO = frozenset(norm(w) for w in ("no", "false", "falso", "0"))

NOT_REPORTED = frozenset(norm(w) for w in ("N/A", "NA", "n/a", "s/d", "n/d", "no aplica"))
"""Words that mean "nothing reported"; a cell of dashes only ("-", "—") means it too."""
_DASHES = frozenset("-—–‒―")


def not_reported(text: str) -> bool:
    stripped = text.strip()
    if stripped and all(ch in _DASHES for ch in stripped):
        return True
    return norm(stripped) in NOT_REPORTED


# ---------------------------------------------------------------------------------------------
# Personal data

_PERSONAL_TERMS = [
    "name", "first name", "last name", "surname", "full name", "nombre", "nombres", "apellido",
    "apellidos", "nombre completo", "DNI", "document number", "número de documento", "passport",
    "pasaporte", "date of birth", "fecha de nacimiento", "phone", "teléfono", "celular", "address",
    "dirección", "email", "correo",
    # the same things, spelled the other ways people write them
    "names", "surnames", "given name", "family name", "e-mail", "mail", "correo electrónico",
    "telephone", "phone number", "número de teléfono", "mobile", "birth date", "birthdate",
    "documento de identidad", "domicilio",
]  # fmt: skip
_PERSON_WORDS = """
participant participants participante participantes beneficiary beneficiaries beneficiario
beneficiarios beneficiaria beneficiarias victim victims victima victimas person persona personas
child children nino nina ninos ninas nna adolescent adolescente adolescentes student students
estudiante estudiantes alumno alumna alumnos alumnas attendee attendees asistente asistentes
trainee trainees capacitado capacitada capacitados capacitadas contact contacto user usuario
usuaria mother father madre padre tutor apoderado guardian respondent encuestado encuestada
informant informante survivor sobreviviente
"""
_FILLER_WORDS = """
y e and o u or de del la el los las the of s su sus his her their n no nro num number numero
completo completa primer primera segundo segunda paterno materno middle legal personal home
fijo movil particular electronico
"""


def _words(text: str) -> list[str]:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return [w for w in re.split(r"[\W_]+", stripped) if w]


_TERMS = {tuple(_words(term)) for term in _PERSONAL_TERMS}
_LONGEST = max(len(term) for term in _TERMS)
_ALLOWED = frozenset(_PERSON_WORDS.split()) | frozenset(_FILLER_WORDS.split())


def is_personal_header(header: object) -> bool:
    """Does this header name personal data ("Nombre", "DNI del participante", "Phone number")?

    A header is personal when it is made only of personal-data terms and words that name a person
    or join words ("Nombre y apellidos", "Teléfono de contacto"); any other word makes it name a
    thing ("Nombre de la capacitación", "Event name", "Dirección regional").
    """
    if not isinstance(header, str) or len(header) > 80:
        return False
    words = _words(header)
    found = False
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            if tuple(words[i : i + size]) in _TERMS:
                found = True
                i += size
                break
        else:
            if words[i] not in _ALLOWED:
                return False
            i += 1
    return found
