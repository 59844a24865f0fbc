"""``mel export iati``: the partnership as an IATI activity (standard 2.03) with its results.

One ``iati-activity`` per partnership, the implementing partners as participating organisations.
Every result of the framework becomes one ``result`` (type output / outcome / impact) holding its
indicators, each with its baseline, a period per fiscal year (target and actual, disaggregated actuals as ``dimension``)
and a life-of-partnership period; a ``document-link`` points to the comparison page. Numbers follow
the IPTT (``mel.results.iptt``) and the comparison (``mel.results.comparison``); suppressed small
cells are left out. Built with the standard library's ElementTree; tests validate the output
against the official 2.03 schema.
"""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

from sqlalchemy.orm import Session

from mel.catalog.models import Indicator, Partnership
from mel.core import periods
from mel.exports.options import ExportOptions
from mel.results.comparison import Point, comparison
from mel.results.disclosure.comparison import disclose_comparison
from mel.results.disclosure.iptt import disclose_iptt
from mel.results.iptt import Bucket, IpttRow, iptt_table

VERSION = "2.03"
RESULT_TYPES = {"output": "1", "outcome": "2", "impact": "3"}
MEASURES = {"count": "1", "percent": "2", "yes_no": "3", "stage": "4"}  # unit, percentage, nominal, ordinal
ROLE_FUNDING, ROLE_IMPLEMENTING = "1", "4"
STATUS_IMPLEMENTATION, STATUS_CLOSED = "2", "4"
DATE_PLANNED_START, DATE_PLANNED_END = "1", "3"


def _narrative(parent: ET.Element, tag: str, text: str, lang: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    narrative = ET.SubElement(element, "narrative")
    if lang:
        narrative.set("xml:lang", lang)
    narrative.text = text
    return element


def _decimal(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(round(value, 6))


def _document_link(parent: ET.Element, url: str, title: str) -> None:
    link = ET.SubElement(parent, "document-link", {"url": url, "format": "text/html"})
    _narrative(link, "title", title)
    ET.SubElement(link, "category", {"code": "A08"})  # logical framework / results framework


def iati_activity(session: Session, partnership: Partnership, options: ExportOptions, *, base_url: str) -> ET.Element:
    viewer = options.viewer()
    scope = viewer.scope()
    iptt = disclose_iptt(iptt_table(session, partnership, scope, granularity="fy"), viewer)
    rows = disclose_comparison(comparison(session, partnership, scope=scope), viewer)
    baselines = {r.indicator.id: r.baseline for r in rows if r.category is None}
    indicators = {i.code: i for r in partnership.results for i in r.indicators}
    today = periods.today()
    activity = ET.Element(
        "iati-activity",
        {
            "last-updated-datetime": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "xml:lang": "en",
            "default-currency": "USD",
            "hierarchy": "1",
        },
    )
    ET.SubElement(activity, "iati-identifier").text = f"{options.reporting_org}-{partnership.code}"
    reporting = ET.SubElement(activity, "reporting-org", {"ref": options.reporting_org, "type": "10"})
    ET.SubElement(reporting, "narrative").text = options.reporting_org_name
    _narrative(activity, "title", partnership.name)
    if partnership.name_es:
        activity.find("title").append(_lang_narrative(partnership.name_es, "es"))  # type: ignore[union-attr]
    if partnership.description:
        description = _narrative(activity, "description", partnership.description)
        description.set("type", "1")
    funder = ET.SubElement(activity, "participating-org", {"role": ROLE_FUNDING, "ref": options.reporting_org})
    ET.SubElement(funder, "narrative").text = options.reporting_org_name
    for partner in partnership.partners:
        org = ET.SubElement(activity, "participating-org", {"role": ROLE_IMPLEMENTING})
        ET.SubElement(org, "narrative").text = partner.name
    ended = partnership.ends_on < today
    ET.SubElement(activity, "activity-status", {"code": STATUS_CLOSED if ended else STATUS_IMPLEMENTATION})
    ET.SubElement(
        activity, "activity-date", {"type": DATE_PLANNED_START, "iso-date": partnership.starts_on.isoformat()}
    )
    ET.SubElement(activity, "activity-date", {"type": DATE_PLANNED_END, "iso-date": partnership.ends_on.isoformat()})
    ET.SubElement(activity, "recipient-country", {"code": partnership.country, "percentage": "100"})
    page = f"{base_url.rstrip('/')}/p/{partnership.code}/comparison"
    _document_link(activity, page, "Baseline and endline comparison")
    by_result: dict[str, list[IpttRow]] = {}
    for row in iptt.rows:  # framework order: impact, outcomes, outputs
        by_result.setdefault(row.result, []).append(row)
    for members in by_result.values():
        first = indicators[members[0].indicator]
        result = ET.SubElement(activity, "result", {"type": RESULT_TYPES[members[0].level], "aggregation-status": "0"})
        _narrative(result, "title", first.result.statement)
        if first.result.statement_es:
            result.find("title").append(_lang_narrative(first.result.statement_es, "es"))  # type: ignore[union-attr]
        for member in members:
            ind = indicators[member.indicator]
            _indicator(result, ind, member, iptt.buckets, baselines.get(ind.id), page)
    return activity


def _lang_narrative(text: str, lang: str) -> ET.Element:
    narrative = ET.Element("narrative", {"xml:lang": lang})
    narrative.text = text
    return narrative


def _indicator(
    result: ET.Element,
    ind: Indicator,
    row: IpttRow,
    buckets: list[Bucket],
    baseline: Point | None,
    page: str,
) -> None:
    """One ``<indicator>`` of its result: baseline, then targets and actuals per period."""
    attrs = {"measure": MEASURES[ind.unit]}
    if ind.direction != "none":
        attrs["ascending"] = "1" if ind.direction == "increase" else "0"
    indicator = ET.SubElement(result, "indicator", attrs)
    _narrative(indicator, "title", f"{ind.code} {ind.name}")
    if ind.definition:
        _narrative(indicator, "description", ind.definition)
    _document_link(indicator, f"{page}#indicator-{ind.code}", f"{ind.code}: baseline, endline and sources")
    if baseline is not None and baseline.date and baseline.date[:4].isdigit():
        element = ET.SubElement(indicator, "baseline", {"year": baseline.date[:4]})
        if baseline.value is not None:
            element.set("value", _decimal(baseline.value))
        if baseline.source:
            _narrative(element, "comment", baseline.source)
    categories = [c for c in row.children if c.kind == "category"]
    by_period = [(b, row.cells[n], [(c, c.cells[n]) for c in categories]) for n, b in enumerate(buckets)]
    for bucket, cell, by_category in by_period:
        if cell.target is None and cell.actual is None and all(c.actual is None for _, c in by_category):
            continue
        period = ET.SubElement(indicator, "period")
        ET.SubElement(period, "period-start", {"iso-date": periods.quarter_start(bucket.periods[0]).isoformat()})
        ET.SubElement(period, "period-end", {"iso-date": periods.quarter_end(bucket.periods[-1]).isoformat()})
        if cell.target is not None:
            ET.SubElement(period, "target", {"value": _decimal(cell.target)})
        actual = cell.actual
        if actual is not None:
            ET.SubElement(period, "actual", {"value": _decimal(actual)})
        for child, c in by_category:
            value = c.actual
            if value is None:
                continue
            element = ET.SubElement(period, "actual", {"value": _decimal(value)})
            dim, _sep, cat = child.label("en").partition(": ")
            ET.SubElement(element, "dimension", {"name": dim, "value": cat})
    lop_actual = row.lop.actual
    if row.lop.target is not None or lop_actual is not None:
        period = ET.SubElement(indicator, "period")
        ET.SubElement(period, "period-start", {"iso-date": ind.partnership.starts_on.isoformat()})
        ET.SubElement(period, "period-end", {"iso-date": ind.partnership.ends_on.isoformat()})
        if row.lop.target is not None:
            ET.SubElement(period, "target", {"value": _decimal(row.lop.target)})
        if lop_actual is not None:
            ET.SubElement(period, "actual", {"value": _decimal(lop_actual)})


def iati_xml(
    session: Session, partnership: Partnership, options: ExportOptions, *, base_url: str | None = None
) -> bytes:
    """The ``iati-activities`` document (UTF-8 bytes) of ``partnership``."""
    root = ET.Element(
        "iati-activities",
        {"version": VERSION, "generated-datetime": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()},
    )
    root.append(iati_activity(session, partnership, options, base_url=base_url or options.base_url))
    ET.indent(root)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
