"""The evaluators' measurements of the demo: the 2018 baseline, a 2020 midline figure and the 2022 endline.

Facts from the endline evaluation: FISTRAP offices in 8 of 24 departments in 2017 and 14 in 2022;
3 specialized shelters (CAREs) in 2017 and 7 in 2022; INEI counted 1,480 trafficking cases in 2017
and 692 in 2020. The endline community survey "is not fully comparable" with the 2018 baseline, so
its 3.a values are marked not comparable. The 2022 case count, the 2017 count of prosecuted cases
(1.b, a yearly baseline that the comparison sets against the last four quarters reported), the
survey percentages and their sample sizes and margins of error are illustrative.
"""

from __future__ import annotations

from mel.workbooks.report_writer import MeasurementRow, write_measurements
from mel.workbooks.spec import DimensionSpec

BASELINE_SURVEY = "Baseline evaluation 2018, community survey (Cusco)"
NOT_COMPARABLE = "Muestra y cuestionario distintos de la línea de base 2018: no es plenamente comparable."


def baseline() -> list[MeasurementRow]:
    return [
        MeasurementRow("IMP.a", "baseline", 2017, 1480, source="INEI", note="Not disaggregated by victim age."),
        MeasurementRow("1.a", "baseline", 2017, 8, source="MPFN administrative records"),
        MeasurementRow("1.b", "baseline", 2017, 20, source="MPFN case records for 2017 (illustrative demo value)"),
        MeasurementRow("2.b", "baseline", 2017, 3, source="MIMP administrative records"),
        MeasurementRow("3.a", "baseline", 2018, 38.5, source=BASELINE_SURVEY, sample_size=412, margin_of_error=4.7),
        MeasurementRow("3.a", "baseline", 2018, 40.2, {"sex": "female"}, source=BASELINE_SURVEY, sample_size=215),
        MeasurementRow("3.a", "baseline", 2018, 36.7, {"sex": "male"}, source=BASELINE_SURVEY, sample_size=197),
    ]


def midline() -> list[MeasurementRow]:
    return [MeasurementRow("IMP.a", "midline", 2020, 692, source="INEI", note="Reporting fell during the lockdown.")]


def endline(lang: str = "es") -> list[MeasurementRow]:
    """The endline values; the evaluators' notes in ``lang``."""
    es = lang == "es"
    survey = "Evaluación final 2022, encuesta comunitaria (Cusco)" if es else "Endline evaluation 2022, survey"
    note = NOT_COMPARABLE if es else "Different sample and questionnaire from the 2018 baseline: not fully comparable."
    illustrative = "Valor ilustrativo de la demostración." if es else "Illustrative demo value."
    mpfn = "Registros administrativos del MPFN" if es else "MPFN administrative records"
    mimp = "Registros administrativos del MIMP" if es else "MIMP administrative records"
    return [
        MeasurementRow("IMP.a", "endline", 2022, 1105, source="INEI", note=illustrative),
        MeasurementRow("1.a", "endline", 2022, 14, source=mpfn),
        MeasurementRow("2.b", "endline", 2022, 7, source=mimp),
        MeasurementRow(
            "3.a",
            "endline",
            2022,
            59.4,
            source=survey,
            comparable=False,
            note=note,
            sample_size=365,
            margin_of_error=5.0,
        ),
        MeasurementRow(
            "3.a", "endline", 2022, 62.1, {"sex": "female"}, source=survey, comparable=False, sample_size=188
        ),
        MeasurementRow("3.a", "endline", 2022, 56.5, {"sex": "male"}, source=survey, comparable=False, sample_size=177),
    ]


def measurement_workbooks(dims: dict[str, dict[str, DimensionSpec]]) -> list[tuple[str, str, bytes]]:
    """(file name, language, bytes) of each measurement workbook, baseline first."""
    return [
        ("baseline-2018.xlsx", "en", write_measurements(baseline(), dims["en"], "en")),
        ("midline-2020.xlsx", "en", write_measurements(midline(), dims["en"], "en")),
        ("endline-2022.xlsx", "es", write_measurements(endline(), dims["es"], "es")),
    ]
