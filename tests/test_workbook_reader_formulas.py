"""mel.workbooks.reader: what calamine hides (formulas without a cached value, error cells) is found."""

from __future__ import annotations

import random
import re
from typing import Any

from mel.workbooks import xml_scan
from mel.workbooks.book import Special, column_letter
from tests.workbook_factory import (
    NO_VALUE,
    PERCENT,
    one_sheet,
    openpyxl_bytes,
    part,
    read_one,
    styles,
    worksheet,
)

# ---------------------------------------------------------------------------------------------
# Formulas and errors


def test_openpyxl_formula_has_no_cached_value() -> None:
    def build(book: Any) -> None:
        sheet = book.active
        sheet["A2"] = 3
        sheet["B2"] = "=A2*2"
        sheet["C2"] = 5

    data = openpyxl_bytes(build)
    xml = part(data, "xl/worksheets/sheet1.xml").decode()
    cell = re.search(r'<c r="B2"[^>]*>.*?</c>', xml)
    assert cell is not None and "<f>A2*2</f>" in cell.group()
    assert not re.search(r"<v>[^<]+</v>", cell.group())  # what openpyxl writes: no value

    sheet = read_one(data)
    assert sheet.rows[1] == [3, "", 5]
    assert sheet.special == {(1, 1): NO_VALUE}


def test_formulas_with_and_without_cached_values() -> None:
    rows = (
        '<row r="1">'
        '<c r="A1"><f>1+1</f><v>2</v></c>'  # computed
        '<c r="B1"><f>1+1</f></c>'  # never computed
        '<c r="C1"><f>1+1</f><v/></c>'  # computed? no: empty value
        '<c r="D1" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>'  # computed text
        '<c r="E1" t="str"><f>""</f><v></v></c>'  # computed, gave the empty string
        '<c r="F1" t="str"><f>"x"</f></c>'  # text formula, never computed
        '<c r="G1" t="b"><f>TRUE()</f><v>1</v></c>'
        '<c r="H1" t="inlineStr"><f>"q"</f><is><t>q</t></is></c>'
        "</row>"
        '<row r="2">'
        '<c r="A2"><f t="shared" ref="A2:A4" si="0">ROW()*2</f><v>4</v></c>'
        "</row>"
        '<row r="3"><c r="A3"><f t="shared" si="0"/><v>6</v></c></row>'
        '<row r="4"><c r="A4"><f t="shared" si="0"/></c></row>'
        '<row r="5"><c r="A5"><f t="array" ref="A5">SUM(A1:A4)</f>\n  <v></v>\n</c></row>'
    )
    sheet = read_one(one_sheet(rows))
    assert sheet.special == {(0, 1): NO_VALUE, (0, 2): NO_VALUE, (0, 5): NO_VALUE, (3, 0): NO_VALUE, (4, 0): NO_VALUE}
    assert sheet.rows[0][0] == 2
    assert sheet.rows[0][3] == "ab"
    assert sheet.rows[0][4] == ""
    assert sheet.rows[0][6] is True
    assert sheet.rows[0][7] == "q"
    assert [sheet.rows[r][0] for r in (1, 2)] == [4, 6]
    assert sheet.rows[0][1] == sheet.rows[0][2] == sheet.rows[3][0] == ""


def test_error_cells_are_kept_apart_from_empty_cells() -> None:
    rows = (
        '<row r="2">'
        '<c r="B2" t="e"><v>#DIV/0!</v></c>'
        '<c r="C2" s="0" t="e"><f>NA()</f><v>#N/A</v></c>'  # as LibreOffice writes it
        '<c r="D2" t="e"><f>A1+"x"</f><v>#VALUE!</v></c>'
        '<c r="E2" t="e"><f>#REF!+1</f><v>#REF!</v></c>'
        '<c r="F2"/>'  # empty cell
        '<c r="G2" t="inlineStr"><is><t></t></is></c>'  # empty text
        '<c r="I2" t="e"><f>1/0</f></c>'  # an error formula never computed
        "</row>"
    )
    sheet = read_one(one_sheet(rows))
    assert sheet.rows[1][1:8] == ["", "", "", "", "", "", ""]
    assert sheet.special_at(1, 1) == Special("error", "#DIV/0!")
    assert sheet.special_at(1, 2) == Special("error", "#N/A")
    assert sheet.special_at(1, 3) == Special("error", "#VALUE!")
    assert sheet.special_at(1, 4) == Special("error", "#REF!")
    assert sheet.special_at(1, 5) is None
    assert sheet.special_at(1, 6) is None
    assert sheet.special_at(1, 7) is None  # H2 is missing altogether
    assert sheet.special_at(1, 8) == NO_VALUE
    assert len(sheet.special) == 5


def test_special_cells_are_inside_rows_even_beyond_calamines_range() -> None:
    rows = '<row r="1"><c r="A1"><v>1</v></c></row><row r="3"><c r="D3" t="e"><v>#N/A</v></c></row>'
    sheet = read_one(one_sheet(rows))
    assert sheet.special == {(2, 3): Special("error", "#N/A")}
    assert sheet.rows[2][3] == ""
    assert sheet.rows[0][0] == 1


def test_namespace_prefixed_parts() -> None:
    rows = (
        '<x:row r="1"><x:c r="A1" t="e"><x:v>#DIV/0!</x:v></x:c><x:c r="B1"><x:f>1+1</x:f></x:c>'
        '<x:c r="C1" s="1"><x:v>0.45</x:v></x:c><x:c r="D1"><x:f>1+1</x:f><x:v>2</x:v></x:c></x:row>'
    )
    prefixed_styles = styles([0, 9]).replace("<styleSheet xmlns=", "<x:styleSheet xmlns:x=")
    prefixed_styles = re.sub(r"<(/?)(?!x:|\?)", r"<\1x:", prefixed_styles)
    sheet = read_one(one_sheet(rows, styles_xml=prefixed_styles, prefix="x"))
    assert sheet.special == {(0, 0): Special("error", "#DIV/0!"), (0, 1): NO_VALUE, (0, 2): PERCENT}
    assert sheet.rows[0] == ["", "", 0.45, 2]


def test_cells_without_r_are_placed_like_calamine_places_them() -> None:
    rows = (
        '<row><c><v>1</v></c><c><v>2</v></c><c t="e"><v>#N/A</v></c></row>'
        '<row r="4"><c><v>10</v></c><c t="e"><v>#DIV/0!</v></c><c r="E4"><v>5</v></c>'
        '<c s="1"><v>0.5</v></c><c><f>1</f></c></row>'
        "<row><c/><c><v>7</v></c></row>"
    )
    sheet = read_one(one_sheet(rows, styles_xml=styles([0, 10])))
    assert sheet.rows[0][:2] == [1, 2]
    assert sheet.rows[3][0] == 10 and sheet.rows[3][4] == 5 and sheet.rows[3][5] == 0.5
    assert sheet.rows[4][1] == 7
    assert sheet.special == {
        (0, 2): Special("error", "#N/A"),
        (3, 1): Special("error", "#DIV/0!"),
        (3, 5): PERCENT,
        (3, 6): NO_VALUE,
    }


def test_targeted_scan_agrees_with_the_full_walk() -> None:
    """White-box: the fast scan and the cell-by-cell walk must find the same things."""
    rng = random.Random(7)
    cells = []
    for r in range(1, 400):
        row = []
        for c in range(6):
            ref = f"{column_letter(c)}{r}"
            kind = rng.choice(["num", "pct", "err", "fnv", "fv", "str", "empty", "shared", "pct_f", "pct_fnv"])
            row.append(
                {
                    "num": f'<c r="{ref}"><v>{r}</v></c>',
                    "pct": f'<c r="{ref}" s="{rng.choice([1, 2])}"><v>0.{r}</v></c>',
                    "err": f'<c r="{ref}" t="e"><v>#N/A</v></c>',
                    "fnv": f'<c r="{ref}"><f>A1</f><v></v></c>',
                    "fv": f'<c r="{ref}" s="2"><f>A1</f><v>3</v></c>',
                    "str": f'<c r="{ref}" t="inlineStr"><is><t>a t="e" s="1" &lt;f&gt;</t></is></c>',
                    "empty": f'<c r="{ref}" s="1"/>',
                    "shared": f'<c r="{ref}"><f t="shared" si="1"/></c>',
                    "pct_f": f"<c r='{ref}' t='n' s='1'><f>B1</f><v>0.5</v></c>",
                    "pct_fnv": f'<c r="{ref}" s="1"><f>B1</f><v></v></c>',
                }[kind]
            )
        cells.append(f'<row r="{r}" s="1" customFormat="1">' + "".join(row) + "</row>")
    xml = worksheet("".join(cells)).encode()
    percent = frozenset({1, 2})
    lo = xml.index(b"<sheetData>") + len(b"<sheetData>")
    hi = xml.index(b"</sheetData>")
    grammar = xml_scan._grammar(b"")
    fast = xml_scan._scan_targeted(xml, lo, hi, grammar, percent)
    full = xml_scan._scan_all(xml, lo, hi, grammar, percent)
    assert fast is not None
    assert fast == full
    assert {s.kind for s in full.values()} == {"percent", "error", "formula_without_value"}
    assert xml_scan.find_specials(xml, percent) == full
