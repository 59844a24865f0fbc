"""The words a generated workbook uses: sheet names, labels, headers and fixed vocabularies.

Each is a name REPORT-FORMAT.md accepts, in English or (through the translation catalog) Spanish,
so whatever mel writes, mel reads back. Keys are the contract's canonical names.
"""

from __future__ import annotations

from mel.core.i18n import t


def sheet_names(lang: str) -> dict[str, str]:
    return {
        "cover": t(lang, "Cover"),
        "indicators": t(lang, "Indicators"),
        "trainings": t(lang, "Trainings"),
        "narrative": t(lang, "Narrative"),
        "followup": t(lang, "Follow-up"),
        "instructions": t(lang, "Instructions"),
        "lists": t(lang, "Lists"),
        "measurements": t(lang, "Measurements"),
    }


def cover_labels(lang: str) -> dict[str, str]:
    return {
        "partner": t(lang, "Partner"),
        "period": t(lang, "Period"),
        "prepared_by": t(lang, "Prepared by"),
        "date": t(lang, "Date"),
    }


def indicator_headers(lang: str) -> dict[str, str]:
    """Recognized columns plus the two reference columns the importer ignores (description, unit)."""
    return {
        "indicator": t(lang, "Indicator"),
        "description": t(lang, "Description"),
        "unit": t(lang, "Unit"),
        "value": t(lang, "Value"),
        "comment": t(lang, "Comment"),
        "numerator": t(lang, "Numerator"),
        "denominator": t(lang, "Denominator"),
    }


def training_headers(lang: str) -> dict[str, str]:
    return {
        "title": t(lang, "Title"),
        "start_date": t(lang, "Start date"),
        "end_date": t(lang, "End date"),
        "pillar": t(lang, "Pillar"),
        "region": t(lang, "Region"),
        "modality": t(lang, "Modality"),
        "institution": t(lang, "Institution"),
        "female": t(lang, "Female"),
        "male": t(lang, "Male"),
        "other": t(lang, "Not recorded"),
        "under_18": t(lang, "Under 18"),
        "hours": t(lang, "Hours"),
        "pre_score": t(lang, "Pre-test"),
        "post_score": t(lang, "Post-test"),
        "repeat": t(lang, "Repeat"),
    }


def followup_headers(lang: str) -> dict[str, str]:
    """The Follow-up (Seguimiento) sheet: counts of a training's participants met again, never names."""
    return {
        "title": t(lang, "Title"),
        "start_date": t(lang, "Start date"),
        "training_period": t(lang, "Training quarter"),
        "institution": t(lang, "Institution"),
        "months": t(lang, "Months after"),
        "participants": t(lang, "Participants"),
        "reached": t(lang, "Reached"),
        "in_post": t(lang, "Still in post"),
        "applying": t(lang, "Applying skills"),
    }


REQUIRED_TRAINING = ("title", "start_date", "pillar", "region", "modality", "institution", "female", "male")


def narrative_headers(lang: str) -> dict[str, str]:
    return {"section": t(lang, "Section"), "text": t(lang, "Text")}


def measurement_headers(lang: str) -> dict[str, str]:
    return {
        "indicator": t(lang, "Indicator"),
        "round": t(lang, "Round"),
        "date": t(lang, "Date"),
        "value": t(lang, "Value"),
        "source": t(lang, "Source"),
        "comparable": t(lang, "Comparable"),
        "note": t(lang, "Note"),
        "sample_size": t(lang, "Sample size"),
        "margin_of_error": t(lang, "Margin of error"),
    }


def pillar_labels(lang: str) -> dict[str, str]:
    return {
        "prosecution": t(lang, "Prosecution"),
        "protection": t(lang, "Protection"),
        "prevention": t(lang, "Prevention"),
    }


def section_labels(lang: str) -> dict[str, str]:
    return {
        "achievements": t(lang, "Achievements"),
        "challenges": t(lang, "Challenges"),
        "adaptations": t(lang, "Adaptations"),
        "context": t(lang, "Context"),
    }


def round_labels(lang: str) -> dict[str, str]:
    return {"baseline": t(lang, "Baseline"), "midline": t(lang, "Midline"), "endline": t(lang, "Endline")}


def yes_no(lang: str, value: bool) -> str:
    return t(lang, "yes") if value else t(lang, "no")


def unit_labels(lang: str) -> dict[str, str]:
    return {
        "count": t(lang, "Number (whole)"),
        "percent": t(lang, "Percent (0-100)"),
        "yes_no": t(lang, "Yes or no"),
        "stage": t(lang, "Stage (choose from the list)"),
    }
