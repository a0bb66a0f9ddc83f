"""Generate ``_deid_table.py``: PS3.15 Annex E, Table E.1-1 (Application Level Confidentiality
Profile Attributes), every row with its Basic Profile action and its ten option columns.

Two ways to run it (``python -m dcmpy.dcmdata._generate_deid_table ...``):

``--part15 part15.xml``
    The source of truth: the DocBook XML of PS3.15 (dicom.nema.org, ``source/docbook/part15``).
    Every row of ``table_E.1-1`` is read as it is; nothing else is used.

``--idiscore DIR --dicom-anonymizer DIR`` (how the committed table was made: this machine has no
route to dicom.nema.org)
    Two machine-readable copies of the table, from PyPI wheels unpacked into DIR
    (``pip download --no-deps idiscore==1.2.0 dicom-anonymizer==2.1.0``, then unzip): idiscore's
    ``_public_dicom.py`` (every column, scraped from the standard on 2024-09-19) and
    dicom-anonymizer's ``dicomfields_2026c.py`` (the Basic Profile column of edition 2026c).
    Rows of 2024 take all their columns from the first; rows added since then take their Basic
    action from the second and their option columns from ``NEWER_ROWS`` below, transcribed from
    the DocBook XML of PS3.15 2025e. Both copies are parsed as data, nothing of them is imported.
    The merge checks that the two agree on the Basic action of every row they share.

Checks done when the committed table was made: the two copies agree on the Basic action of all
618 rows they share; 141 rows (among them all 33 newer ones but Display URI) were read cell by cell
in the 2025e DocBook XML and are compared with the table by
``tests/test_dcmanon.py::test_table_rows_match_part15_2025e``. Only in the 2024 copy: Referenced
General Purpose Scheduled Procedure Step Transaction UID (0040,4023), kept as U; the repeating
groups (curves 50xx, overlays 60xx) and the private attributes row, which the 2026c copy omits.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# the option columns in the order of Table E.1-1, with their CID 7050 codes
OPTIONS = (
    ("safe_private", "113111"), ("uids", "113110"), ("device", "113109"),
    ("institution", "113112"), ("patient", "113108"), ("full_dates", "113106"),
    ("modified_dates", "113107"), ("descriptors", "113105"), ("structured", "113104"),
    ("graphics", "113103"),
)
_BASIC = "113100"
_IDISCORE_CODES = {"DUMMY": "D", "EMPTY": "Z", "REMOVE": "X", "KEEP": "K", "CLEAN": "C",
                   "UID": "U", "EMPTY_OR_DUMMY": "Z/D", "REMOVE_OR_EMPTY": "X/Z",
                   "REMOVE_OR_DUMMY": "X/D", "REMOVE_OR_EMPTY_OR_DUMMY": "X/Z/D",
                   "REMOVE_OR_EMPTY_OR_UID": "X/Z/U*"}
_ANONYMIZER_LISTS = {"D_TAGS": "D", "Z_TAGS": "Z", "X_TAGS": "X", "U_TAGS": "U",
                     "Z_D_TAGS": "Z/D", "X_Z_TAGS": "X/Z", "X_D_TAGS": "X/D",
                     "X_Z_D_TAGS": "X/Z/D", "X_Z_U_STAR_TAGS": "X/Z/U*"}

# Rows newer than the 2024 scrape: option columns as printed in PS3.15 2025e (DocBook XML).
# Display URI (0040,E012) is not in 2025e: Basic X from 2026c, no option column known.
NEWER_ROWS = {
    "0040,0556": {"descriptors": "C"},                      # Acquisition Context Description
    "0040,B034": {"full_dates": "K", "modified_dates": "C"},  # Annotation DateTime
    "003A,020C": {"descriptors": "C"},                      # Channel Derivation Description
    "003A,0203": {"descriptors": "C"},                      # Channel Label
    "0040,E012": {},                                        # Display URI
    "0040,A034": {"full_dates": "K", "modified_dates": "C"},  # Effective Start DateTime
    "0040,A035": {"full_dates": "K", "modified_dates": "C"},  # Effective Stop DateTime
    "0010,2162": {"patient": "K"},                          # Ethnic Groups
    "0010,0044": {},                                        # Gender Identity Code Sequence
    "0010,0045": {"descriptors": "C"},                      # Gender Identity Comment
    "0010,0041": {},                                        # Gender Identity Sequence
    "0018,1011": {"device": "K"},                           # Hardcopy Creation Device ID
    "0008,1304": {"descriptors": "C"},                      # Histological Diagnoses Code Sequence
    "0040,B03F": {"descriptors": "C"},                      # Montage Channel Label
    "0040,B03B": {"descriptors": "C"},                      # Montage Name
    "003A,0020": {"descriptors": "C"},                      # Multiplex Group Label
    "0010,0012": {},                                        # Name to Use
    "0010,0013": {},                                        # Name to Use Comment
    "0010,0011": {},                                        # Person Names to Use Sequence
    "0008,1302": {"descriptors": "C"},                      # Primary Diagnosis Code Sequence
    "0008,1301": {"descriptors": "C"},                      # Principal Diagnosis Code Sequence
    "0010,0015": {},                                        # Pronoun Code Sequence
    "0010,0016": {"descriptors": "C"},                      # Pronoun Comment
    "0018,1010": {"device": "K"},                           # Secondary Capture Device ID
    "0008,1303": {"descriptors": "C"},                      # Secondary Diagnoses Code Sequence
    "0040,B036": {"full_dates": "K", "modified_dates": "C"},  # Segment Definition DateTime
    "0010,0046": {"patient": "K"},          # Sex Parameters for Clinical Use Category Code Sequence
    "0010,0042": {"patient": "C", "descriptors": "C"},  # ... Category Comment
    "0010,0047": {"patient": "K"},          # ... Category Reference
    "0010,0043": {"patient": "K"},          # ... Category Sequence
    "0010,0014": {},                                        # Third Person Pronouns Sequence
    "0070,0006": {"descriptors": "C"},                      # Unformatted Text Value
    "0040,B020": {"structured": "C"},                       # Waveform Annotation Sequence
}


def _tag_text(raw: str) -> str:
    """'(0008,0050)' / '00080050' / '50xxxxxx' -> '0008,0050' / '50XX,XXXX' (private: 'GGGG,EEEE')."""
    raw = raw.strip()
    if "odd" in raw or raw in ("", "private"):
        return "GGGG,EEEE"
    digits = re.sub(r"[^0-9A-Fa-fXx]", "", raw)
    if len(digits) != 8:
        raise ValueError(f"unrecognised tag {raw!r}")
    return f"{digits[:4]},{digits[4:]}".upper()


# ------------------------------------------------------------------------ the DocBook source
def rows_from_docbook(path: Path) -> list[tuple]:
    """Every row of table_E.1-1 in the DocBook XML: (tag, name, basic, *options)."""
    import xml.etree.ElementTree as ET
    ns = {"db": "http://docbook.org/ns/docbook"}
    xml_id = "{http://www.w3.org/XML/1998/namespace}id"
    root = ET.parse(path).getroot()
    table = next((t for t in root.iter("{http://docbook.org/ns/docbook}table")
                  if t.get(xml_id) == "table_E.1-1"), None)
    if table is None:
        raise ValueError(f"{path}: no table with xml:id table_E.1-1")
    rows = []
    for tr in table.findall("db:tbody/db:tr", ns):
        cells = [" ".join("".join(td.itertext()).split()) for td in tr.findall("db:td", ns)]
        if len(cells) != 15:
            raise ValueError(f"{path}: row {cells[:2]} has {len(cells)} cells, expected 15")
        name, tag, _retired, _in_iod, basic, *options = cells
        rows.append((_tag_text(tag), name, basic, *options))
    return rows


# ------------------------------------------------------------------------ the two PyPI copies
def _idiscore_columns(path: Path) -> dict[str, dict[str, str]]:
    """tag -> {column: code} from idiscore's _public_dicom.py; also a '_name' entry."""
    text = path.read_text()
    rows: dict[str, dict[str, str]] = {}
    for block in text.split("= RawNemaRuleSet(")[1:]:
        code = re.search(r'code="(\d+)"', block).group(1)
        column = "basic" if code == _BASIC else dict((c, n) for n, c in OPTIONS)[code]
        for kind, tag, action, comment in re.findall(
                r'(SingleTag|RepeatingGroup|PrivateTags)\("?([0-9a-fA-Fx]*)"?\)\s*,\s*'
                r'ActionCodes\.(\w+)[\s,\)\]]*#\s*([^\n]*)', block):
            row = rows.setdefault(_tag_text(tag), {"_name": comment.strip()})
            row[column] = _IDISCORE_CODES[action]
    return rows


def _anonymizer_basic(path: Path) -> dict[str, tuple[str, str]]:
    """tag -> (Basic action, name) from dicom-anonymizer's dicomfields_2026c.py."""
    out: dict[str, tuple[str, str]] = {}
    current = None
    for line in path.read_text().splitlines():
        m = re.match(r"(\w+_TAGS) = \[", line)
        if m:
            current = _ANONYMIZER_LISTS.get(m.group(1))
            continue
        m = re.match(r"\s*\((0x[0-9A-Fa-f]+), (0x[0-9A-Fa-f]+)\),\s*#\s*(.*)", line)
        if m and current:
            out[f"{int(m.group(1), 16):04X},{int(m.group(2), 16):04X}"] = (current, m.group(3).strip())
    return out


def rows_from_scrapes(idiscore: Path, anonymizer: Path) -> list[tuple]:
    old = _idiscore_columns(next(idiscore.rglob("_public_dicom.py")))
    new = _anonymizer_basic(next(anonymizer.rglob("dicomfields_2026c.py")))
    names = {"50XX,XXXX": "Curve Data", "60XX,3000": "Overlay Data",
             "60XX,4000": "Overlay Comments", "GGGG,EEEE": "Private Attributes"}
    rows = []
    for tag in sorted(set(old) | set(new)):
        if tag in old and tag in new and old[tag]["basic"] != new[tag][0]:
            raise ValueError(f"{tag}: Basic action {old[tag]['basic']} (2024) != {new[tag][0]} (2026c)")
        if tag in old:
            cols = old[tag]
        else:
            if tag not in NEWER_ROWS:
                raise ValueError(f"{tag} ({new[tag][1]}): newer row without transcribed options")
            cols = {"basic": new[tag][0], **NEWER_ROWS[tag]}
        name = names.get(tag) or (new[tag][1] if tag in new else cols["_name"])
        rows.append((tag, name, cols["basic"], *(cols.get(n, "") for n, _ in OPTIONS)))
    return rows


# ------------------------------------------------------------------------ output
def render(rows: list[tuple], source: str) -> str:
    lines = [
        '"""PS3.15 Annex E Table E.1-1: Application Level Confidentiality Profile Attributes.',
        "",
        "Generated by ``python -m dcmpy.dcmdata._generate_deid_table``; do not edit by hand.",
        f"Source: {source}",
        "",
        "Each row: (tag, attribute name, Basic Profile action, then the option columns in the",
        "order of ``OPTION_COLUMNS``; '' where the table cell is empty). Tags are 'GGGG,EEEE' with",
        "'XX' for the repeating groups and 'GGGG,EEEE' itself for the private attributes row.",
        '"""',
        "",
        "OPTION_COLUMNS = (" + ", ".join(f'"{n}"' for n, _ in OPTIONS) + ")",
        "OPTION_CODES = {" + ", ".join(f'"{n}": "{c}"' for n, c in OPTIONS) + "}",
        "",
        "ROWS = (",
    ]
    for row in rows:
        lines.append("    (" + ", ".join(repr(c) for c in row) + "),")
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part15", type=Path, help="DocBook XML of PS3.15")
    parser.add_argument("--idiscore", type=Path, help="unpacked idiscore 1.2.0 wheel")
    parser.add_argument("--dicom-anonymizer", type=Path, help="unpacked dicom-anonymizer 2.1.0 wheel")
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).with_name("_deid_table.py"))
    args = parser.parse_args(argv)
    if args.part15:
        rows = rows_from_docbook(args.part15)
        source = f"the DocBook XML of PS3.15 ({args.part15.name})."
    elif args.idiscore and args.dicom_anonymizer:
        rows = rows_from_scrapes(args.idiscore, args.dicom_anonymizer)
        source = ("idiscore 1.2.0 (all columns, scraped from PS3.15 on 2024-09-19), "
                  "dicom-anonymizer 2.1.0\n(Basic Profile column of PS3.15 2026c) and the option "
                  "columns of the newer rows transcribed\nfrom the DocBook XML of PS3.15 2025e; see "
                  "_generate_deid_table.py.")
    else:
        parser.error("give --part15, or both --idiscore and --dicom-anonymizer")
    args.output.write_text(render(rows, source))
    print(f"{len(rows)} rows written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
