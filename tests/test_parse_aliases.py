"""Every name REPORT-FORMAT.md accepts, copied from its tables, in workbooks written by openpyxl and xlsxwriter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mel.catalog.models import Partnership
from mel.workbooks.report_writer import IndicatorRow, Report, TrainingRow, write_report
from mel.workbooks.spec import dimension_specs
from tests.parse_factory import COVER, parse, parse_bytes

COVER_LABELS = {
    "partner": ["Partner", "Socio", "Socio implementador", "Organización"],
    "period": ["Period", "Periodo", "Período", "Trimestre"],
    "prepared_by": ["Prepared by", "Elaborado por", "Responsable"],
    "date": ["Date", "Fecha"],
}
INDICATOR_ALIASES = {
    "indicator": ["indicator", "indicador", "code", "código", "indicator code"],
    "value": ["value", "valor", "cantidad", "result", "resultado"],
    "comment": ["comment", "comments", "comentario", "comentarios", "notes", "notas", "observaciones"],
    "region": ["region", "región", "departamento", "REGION ", "Región"],
}
TRAINING_ALIASES = {
    "title": ["title", "título", "event", "evento", "actividad", "training", "capacitación"],
    "start_date": ["start_date", "date", "fecha", "fecha de inicio", "inicio"],
    "end_date": ["end_date", "fecha de fin", "fin"],
    "pillar": ["pillar", "pilar", "eje"],
    "region": ["region", "región", "departamento"],
    "modality": ["modality", "modalidad"],
    "institution": ["institution", "institución", "entidad"],
    "female": ["female", "women", "mujeres", "femenino"],
    "male": ["male", "men", "hombres", "masculino"],
    "other": ["other", "not recorded", "otro", "no registrado"],
    "under_18": ["under_18", "menores de 18", "menores"],
    "hours": ["hours", "horas", "duración"],
    "pre_score": ["pre_score", "pre-test", "puntaje pre", "prueba de entrada"],
    "post_score": ["post_score", "post-test", "puntaje post", "prueba de salida"],
    "repeat": ["repeat", "repetidos", "repeat participants", "participantes repetidos", "ya capacitados"],
}
TRAINING_VALUES: dict[str, Any] = {
    "title": "Course",
    "start_date": "2021-07-05",
    "end_date": "2021-07-06",
    "pillar": "prevention",
    "region": "Puno",
    "modality": "Presencial",
    "institution": "Ministerio de Educación (MINEDU)",
    "female": 7,
    "male": 6,
    "other": 1,
    "under_18": 2,
    "hours": 8,
    "pre_score": 40,
    "post_score": 75,
    "repeat": 3,
}
EMPTY_REPORT: dict[str, Any] = {"Cover": COVER, "Indicators": [["Indicator", "Value"]]}
PILLAR_WORDS = {
    "prosecution": ["prosecution", "Persecución"],
    "protection": ["protection", "PROTECCIÓN"],
    "prevention": ["prevention", "prevencion"],
}
SECTION_WORDS = {
    "achievements": ["achievements", "logros"],
    "challenges": ["challenges", "desafíos", "retos"],
    "adaptations": ["adaptations", "adaptaciones"],
    "context": ["context", "contexto"],
}


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_cover_labels(session: Session, index: int) -> None:
    def label(key: str) -> str:
        names = COVER_LABELS[key]
        return names[index % len(names)]

    cover = [
        ["Report", None, None],
        [None, label("partner"), "ilo"],
        [None, label("period"), None, None, "2021-T3"],
        [label("prepared_by"), "Ana Quispe"],
        [label("date"), dt.date(2021, 10, 5)],
    ]
    parsed = parse(session, {"Cover": cover, "Indicators": [["Indicator", "Value"], ["1.2.a", 1]]})
    assert parsed.errors == []
    assert (parsed.partner, parsed.period, parsed.prepared_by, parsed.report_date) == (
        "ilo",
        "2021Q3",
        "Ana Quispe",
        dt.date(2021, 10, 5),
    )


@pytest.mark.parametrize("index", range(7))
def test_indicator_headers(session: Session, index: int) -> None:
    header = [names[index % len(names)] for names in INDICATOR_ALIASES.values()]
    parsed = parse(session, {"Cover": COVER, "Indicators": [header, ["1.b", 4, "ok", "Cusco"], ["1.b", 9, None, None]]})
    assert parsed.errors == [] and parsed.infos == []
    assert [(v.indicator, v.categories, v.value, v.comment) for v in parsed.values] == [
        ("1.b", {"region": "cusco"}, 4, "ok"),
        ("1.b", {}, 9, None),
    ]


@pytest.mark.parametrize("index", range(7))
def test_training_headers(session: Session, index: int) -> None:
    header = [names[index % len(names)] for names in TRAINING_ALIASES.values()]
    sheets = {
        "Cover": COVER,
        "Indicators": [["Indicator", "Value"]],
        "Trainings": [header, list(TRAINING_VALUES.values())],
    }
    parsed = parse(session, sheets)
    assert parsed.errors == [] and parsed.infos == []
    assert [t.as_json() for t in parsed.trainings] == [
        {
            **TRAINING_VALUES,
            "region": "puno",
            "modality": "in-person",
            "institution": "minedu",
            "end_date": "2021-07-06",
        }
    ]


@pytest.mark.parametrize(("pillar", "words"), PILLAR_WORDS.items())
def test_pillar_words(session: Session, pillar: str, words: list[str]) -> None:
    rows = [list(TRAINING_ALIASES), *([*TRAINING_VALUES.values()] for _ in words)]
    for row, word in zip(rows[1:], words, strict=True):
        row[3] = word
    parsed = parse(session, {"Cover": COVER, "Indicators": [["Indicator", "Value"]], "Trainings": rows})
    assert parsed.errors == []
    assert [t.pillar for t in parsed.trainings] == [pillar] * len(words)


def test_narrative_words_and_headers(session: Session) -> None:
    rows: list[list[Any]] = [["Sección", "Descripción"]]
    rows += [[word, f"text {word}"] for words in SECTION_WORDS.values() for word in words]
    parsed = parse(session, {"Cover": COVER, "Indicators": [["Indicator", "Value"]], "Narrativa": rows})
    assert parsed.errors == []
    expected = [section for section, words in SECTION_WORDS.items() for _ in words]
    assert [n.section for n in parsed.narrative] == expected
    tipo = parse(
        session,
        {"Cover": COVER, "Indicators": [["Indicator", "Value"]], "Narrative": [["tipo", "texto"], ["retos", "x"]]},
    )
    assert [n.as_json() for n in tipo.narrative] == [{"section": "challenges", "text": "x"}]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_report_writer_round_trip(session: Session, lang: str) -> None:
    partnership = session.scalar(select(Partnership.id).where(Partnership.code == "peru-cpc"))
    assert partnership is not None
    rows = [
        IndicatorRow("2.a", 12),
        IndicatorRow("2.a", 5, {"sex": "female", "age_group": "12-17"}),
        IndicatorRow("2.a", 2, {"sex": "male", "age_group": "0-11"}),
        IndicatorRow("2.1.a", 30, comment="two workshops"),
        IndicatorRow("2.1.a", 18, {"institution": "minsa", "region": "loreto", "sex": "female"}),
    ]
    care = ("Care", dt.date(2021, 8, 2), "protection", "loreto", "hybrid")
    trainings = [
        TrainingRow(*care, "minsa", female=18, male=9, other=3, hours=12.5),
        TrainingRow(*care, "cso", female=2, male=0, end_date=None),
    ]
    report = Report("chs", "2021Q3", rows, trainings, [("achievements", "Done")], "Rosa", dt.date(2021, 10, 1))
    data = write_report(report, dimension_specs(session, partnership, lang), lang)
    parsed = parse_bytes(session, data, lang=lang, partner_code="chs", period="2021Q3")
    assert parsed.errors == []
    assert [(v.indicator, v.categories, v.value, v.comment) for v in parsed.values] == [
        (r.code, r.categories, r.value, r.comment) for r in rows
    ]
    assert [(t.title, t.institution, t.female, t.male, t.other, t.hours) for t in parsed.trainings] == [
        ("Care", "minsa", 18, 9, 3, 12.5),
        ("Care", "cso", 2, 0, 0, None),
    ]
    assert (parsed.prepared_by, parsed.report_date) == ("Rosa", dt.date(2021, 10, 1))
    assert [n.as_json() for n in parsed.narrative] == [{"section": "achievements", "text": "Done"}]
