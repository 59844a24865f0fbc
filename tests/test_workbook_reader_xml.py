"""mel.workbooks.reader: XML entity bombs, external entities and DTDs are refused; comments are not."""

from __future__ import annotations

import pytest

from mel.workbooks import zip_guard
from tests.workbook_factory import (
    BILLION_LAUGHS_SHEET,
    DOC_REL_NS,
    LAUGHS,
    MAIN_NS,
    one_sheet,
    read_one,
    refused_quickly,
    styles,
    worksheet,
    xlsx,
)

# ---------------------------------------------------------------------------------------------
# XML entity bombs and external entities


def test_billion_laughs_in_a_sheet() -> None:
    assert "<!ENTITY lol9" in BILLION_LAUGHS_SHEET
    error = refused_quickly(xlsx([("Sheet1", BILLION_LAUGHS_SHEET)]))
    assert "DTD" in error.detail and "sheet1.xml" in error.detail


def test_billion_laughs_in_workbook_xml() -> None:
    workbook_xml = (
        f'<?xml version="1.0"?>{LAUGHS}<workbook xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}">'
        '<sheets><sheet name="&lol9;" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    error = refused_quickly(xlsx([("Sheet1", worksheet(""))], workbook_xml=workbook_xml))
    assert "workbook.xml" in error.detail


def test_external_entity_in_styles_and_shared_strings() -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    sst = f'{xxe}<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>&x;</t></si></sst>'
    with_sst = xlsx(
        [("Sheet1", worksheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'))], extra={"xl/sharedStrings.xml": sst}
    )
    assert "sharedStrings.xml" in refused_quickly(with_sst).detail
    bad_styles = styles([0]).replace('<?xml version="1.0" encoding="UTF-8"?>', xxe)
    assert "styles.xml" in refused_quickly(one_sheet("", styles_xml=bad_styles)).detail


@pytest.mark.parametrize("shift", [1, 2, 3, 5])
def test_doctype_split_across_chunks(shift: int) -> None:
    """A stored part is read in _OUT_CHUNK slices: put the only '<!DOCTYPE' across a slice boundary."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    padding = " " * (zip_guard._OUT_CHUNK - shift - len(head))
    doctype = '<!DOCTYPE worksheet SYSTEM "http://example.invalid/evil.dtd">'
    xml = head + padding + doctype + worksheet('<row r="1"><c r="A1"><v>1</v></c></row>').split("?>\n", 1)[1]
    assert xml.index("<!") == zip_guard._OUT_CHUNK - shift
    assert xml.count("<!") == 1
    data = xlsx([("Sheet1", xml)], stored={"xl/worksheets/sheet1.xml"})
    assert "DTD" in refused_quickly(data).detail


def test_comments_and_cdata_are_not_mistaken_for_a_dtd() -> None:
    xml = worksheet('<!-- made by hand --><row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[x<y]]></t></is></c></row>')
    assert read_one(xlsx([("Sheet1", xml)])).rows == [["x<y"]]


def test_utf16_parts_are_refused() -> None:
    xml = worksheet('<row r="1"><c r="A1"><v>1</v></c></row>').replace("UTF-8", "UTF-16")
    data = xlsx([("Sheet1", xml.encode("utf-16"))])
    assert "UTF-8" in refused_quickly(data).detail
