"""Worklist test data for test_dcmwlm*.py (no tests here): Debian's sample worklists and queries, plus records
and queries written to probe wlmscpfs's matching rules, each as dcmdump text.

``build(root, convert)`` writes the worklist folders (OFFIS, PROBE, DT, SEQ, EFR, BAD, NOLOCK)
with ``convert(dump_path, wl_path)`` (DCMTK's dump2dcm for DCMTK's server, ours for ours).
"""
from __future__ import annotations

import itertools
from pathlib import Path

EXAMPLES = Path("/usr/share/doc/dcmtk/examples")
SAMPLES = sorted((EXAMPLES / "wlistdb" / "OFFIS").glob("*.dump"))
SAMPLE_QUERIES = sorted((EXAMPLES / "wlistqry").glob("*.dump"))
S = "ScheduledProcedureStepSequence[0]."

_TOP = [("0008,0050", "SH", "acc"), ("0008,0005", "CS", "cs"), ("0008,0020", "DA", "sdate"),
        ("0008,0030", "TM", "stime"), ("0008,0090", "PN", "ref"), ("0010,0010", "PN", "name"),
        ("0010,0020", "LO", "pid"), ("0010,0021", "LO", "issuer"), ("0010,0030", "DA", "bdate"),
        ("0010,0040", "CS", "sex"), ("0010,2297", "PN", "resp"), ("0010,2298", "CS", "role"),
        ("0020,000d", "UI", "uid"), ("0032,1032", "PN", "reqphys"), ("0032,1060", "LO", "rpdesc"),
        ("0038,0010", "LO", "adm")]
_TAIL = [("0040,1001", "SH", "rpid"), ("0040,1003", "SH", "prio")]
_SPS = [("0008,0060", "CS", "mod"), ("0040,0001", "AE", "ae"), ("0040,0002", "DA", "date"),
        ("0040,0003", "TM", "time"), ("0040,0006", "PN", "phys"), ("0040,0007", "LO", "spsdesc"),
        ("0040,0009", "SH", "spsid")]
_DEFAULTS = dict(cs="ISO_IR 100", sdate="", stime="", ref="", issuer="", bdate="", sex="", resp="",
                 role="", reqphys="", adm="", rpdesc="DESC", uid="1.2.3", rpid="RP", prio="",
                 name="X^Y", pid="P", spsdesc="SD", spsid="S1", mod="CT", ae="AE1",
                 date="20240101", time="080000", phys="")


def _line(tag: str, vr: str, value: str, indent: str = "") -> str:
    return f"{indent}({tag}) {vr} [{value}]" if value else f"{indent}({tag}) {vr} (no value available)"


def record(acc: str, extra_top: str = "", extra_sps: str = "", **values: str) -> str:
    """A worklist record as dump text (one SPS item)."""
    v = dict(_DEFAULTS, acc=acc, **values)
    out = [_line(t, vr, v[k]) for t, vr, k in _TOP]
    out.append(extra_top.rstrip("\n")) if extra_top else None
    out += ["(0040,0100) SQ (Sequence)", "  (fffe,e000) na (Item)"]
    out += [_line(t, vr, v[k], "    ") for t, vr, k in _SPS]
    out.append(extra_sps.rstrip("\n")) if extra_sps else None
    out += ["  (fffe,e00d) na", "(fffe,e0dd) na"]
    out += [_line(t, vr, v[k]) for t, vr, k in _TAIL]
    return "\n".join(out) + "\n"


PROBE = {
    "A1": record("A1", name="Doe^John", pid="ID1", sex="F", bdate="19700101", ref="Ref^One",
                 reqphys="Req^One", adm="ADM1", issuer="ISS1", resp="Resp^One", role="PARENT",
                 sdate="20240101", stime="080000", prio="ROUTINE", rpid="RP1", mod="CT", ae="ST1",
                 date="20240101", time="080000", phys="Smith^A"),
    "A2": record("A2", name="doe^jane", pid="ID2", sex="M", bdate="19800615", ref="Ref^Two",
                 reqphys="Req^Two", adm="ADM2", issuer="ISS2", resp="Resp^Two", role="CHILD",
                 sdate="20240102", stime="1000", prio="STAT", rpid="RP2", mod="MR", ae="ST2\\ST3",
                 date="20240102", time="1000", phys="Jones^B"),
    "A3": record("A3", name="Roe^Richard", pid="ID3", sex="O", bdate="19900101", sdate="20240103",
                 stime="235959.5", rpid="RP3", mod="US", ae="ST4", date="20240103",
                 time="235959.5", phys="Smith^C"),
    "A4": record("A4", name="Poe^Edgar", pid="ID4", sdate="20240105", rpid="RP4", mod="CT",
                 ae="ST1", date="20240105", time="1200"),
    "A5": record("A5", name="Doe^John", pid="ID5", rpid="RP5", mod="MR", ae="ST1", date="20231231",
                 time="2300"),
}

DT_DATES = ["20240101", "20240102", "20240103", "20240104", "20240105"]
DT_TIMES = ["0700", "1200", "1700"]
DT = {f"{d[-1]}{t[:2]}": record(f"{d[-1]}{t[:2]}", sdate=d, stime=t, date=d, time=t)
      for d in DT_DATES for t in DT_TIMES}
DT["E1"] = record("E1", sdate="20240103", date="20240103", time="1200")
DT["E2"] = record("E2", stime="1200", date="20240103", time="1200")

_CODES = """(0032,1064) SQ (Sequence)
  (fffe,e000) na
    (0008,0100) SH [C1]
    (0008,0102) SH [DCM]
    (0008,0104) LO [First]
  (fffe,e00d) na
  (fffe,e000) na
    (0008,0100) SH [C2]
    (0008,0102) SH [99X]
    (0008,0103) SH [1.0]
    (0008,0104) LO [Second]
  (fffe,e00d) na
(fffe,e0dd) na
(0008,1110) SQ (Sequence)
  (fffe,e000) na
    (0008,1150) UI [1.2.840.10008.3.1.2.3.1]
    (0008,1155) UI [1.2.3.4.5]
  (fffe,e00d) na
(fffe,e0dd) na
(0010,1010) AS [045Y]
(0009,0010) LO [ACME]
(0009,1001) LO [secret]
"""
_PROTOCOL = """    (0040,0008) SQ (Sequence)
      (fffe,e000) na
        (0008,0100) SH [P1]
        (0008,0102) SH [DCM]
        (0008,0104) LO [Proto]
      (fffe,e00d) na
    (fffe,e0dd) na
    (0040,0020) CS [SCHEDULED]
"""
SEQ = {"S1": record("S1", name="Seq^One", pid="SQ1", extra_top=_CODES, extra_sps=_PROTOCOL)}


def _efr_variants() -> dict[str, str]:
    """Records that -efr rejects or keeps (DCMTK's Type 1 checks), keyed by accession number."""
    full = record("E00", name="Full^Record", pid="F1")
    code = "(0032,1064) SQ\n  (fffe,e000) na\n    (0008,0100) SH [C1]\n    (0008,0102) SH [DCM]\n  (fffe,e00d) na\n(fffe,e0dd) na"
    variants = {
        "E00": full,
        "E01": full.replace("(0010,0010) PN [Full^Record]", "(0010,0010) PN (no value available)"),
        "E02": full.replace("(0010,0020) LO [F1]\n", ""),
        "E03": full.replace("(0032,1060) LO [DESC]", code),
        "E04": full.replace("(0032,1060) LO [DESC]", code.replace("    (0008,0102) SH [DCM]\n", "")),
        "E05": full.replace("    (0040,0009) SH [S1]\n", ""),
        "E06": full.replace("    (0040,0001) AE [AE1]", "    (0040,0001) AE (no value available)"),
        "E07": full.replace("  (fffe,e00d) na\n(fffe,e0dd)", "  (fffe,e00d) na\n  (fffe,e000) na\n"
                            "    (0008,0060) CS [MR]\n  (fffe,e00d) na\n(fffe,e0dd)"),
        "E08": full.replace("(0008,0005) CS [ISO_IR 100]\n", ""),
        "E09": full.replace("(0040,1001) SH [RP]", "(0040,1001) SH (no value available)"),
    }
    return {k: v.replace("[E00]", f"[{k}]", 1) for k, v in variants.items()}


EFR = _efr_variants()

# queries as dump text (converted with dump2dcm; the same file goes to both servers)
QUERY_DUMPS = {
    "rpcs_zero": "(0010,0010) PN []\n(0032,1064) SQ\n(fffe,e0dd) na\n",
    "rpcs_emptyitem": "(0010,0010) PN []\n(0032,1064) SQ\n(fffe,e000) na\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "rpcs_cv": "(0032,1064) SQ\n(fffe,e000) na\n(0008,0100) SH [C2]\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "rpcs_unsup": "(0032,1064) SQ\n(fffe,e000) na\n(0008,0100) SH []\n(0008,010b) CS []\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "sps_zero": "(0010,0020) LO []\n(0040,0100) SQ\n(fffe,e0dd) na\n",
    "sps_two": "(0010,0020) LO []\n(0040,0100) SQ\n(fffe,e000) na\n(0008,0060) CS [MR]\n(fffe,e00d) na\n(fffe,e000) na\n(0008,0060) CS [CT]\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "sps_two_bad": "(0040,0100) SQ\n(fffe,e000) na\n(0008,0060) CS [x]\n(fffe,e00d) na\n(fffe,e000) na\n(0008,0060) CS [CT]\n(fffe,e00d) na\n(fffe,e0dd) na\n(0010,0040) CS [m]\n",
    "sps_status": "(0040,0100) SQ\n(fffe,e000) na\n(0040,0020) CS [XX]\n(0040,0008) SQ\n(fffe,e0dd) na\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "sps_unsup": "(0040,0100) SQ\n(fffe,e000) na\n(0008,0060) CS []\n(0010,0010) PN []\n(0040,0440) SQ\n(fffe,e0dd) na\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "refstudy_zero": "(0008,1110) SQ\n(fffe,e0dd) na\n(0008,1120) SQ\n(fffe,e0dd) na\n",
    "refstudy_item": "(0008,1110) SQ\n(fffe,e000) na\n(0008,1155) UI []\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "private": "(0009,0010) LO [ACME]\n(0009,1001) LO []\n(0010,0010) PN []\n",
    "unsupported": "(0010,1010) AS []\n(0008,0052) CS [STUDY]\n(0008,0016) UI []\n(0010,0010) PN []\n",
    "unsup_seq": "(0010,0010) PN []\n(0008,1032) SQ\n(fffe,e000) na\n(0008,0100) SH []\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "charset": "(0008,0005) CS [ISO_IR 192]\n(0010,0010) PN []\n(0010,0000) UL 0\n",
    "uid_list": "(0020,000d) UI [1.2.3\\1.2.4]\n",
    "pn_list": "(0010,0010) PN [a\\b\\c]\n",
    "nested_code": "(0040,0100) SQ\n(fffe,e000) na\n(0040,0008) SQ\n(fffe,e000) na\n(0008,0100) SH []\n(0010,0010) PN []\n(fffe,e00d) na\n(fffe,e0dd) na\n(fffe,e00d) na\n(fffe,e0dd) na\n",
    "only_unsupported": "(0010,1010) AS []\n",
    "sps_as_text": "(0040,0100) LO [x]\n(0010,0010) PN []\n",
}


def key_queries() -> list[tuple[str, list[str]]]:
    """(area, findscu -k keys) probing each matching key's rules."""
    cases: list[tuple[str, list[str]]] = []
    offis = {
        "PatientID": ["HF", "H*", "HF\\AV35674", "hf", "*"],
        "AccessionNumber": ["00001", "0000?", "00001\\00002"],
        "RequestedProcedureID": ["RP47?", "RP472\\RP4474"],
        "RequestedProcedurePriority": ["HI*", "HIGH\\LOW", "high"],
        "PatientSex": ["M", "?", "M\\F", "m"],
        "RequestingPhysician": ["R*", "ROSS\\CLARK"],
        "PatientName": ["VIV*", "viv*", "H*\\M*", "*ANTONIO", "?IVALDI*", "HAYDN^FRANZ^JOSEPH "],
        "PatientBirthDate": ["17320331-17911205", "17320331\\17911205", "-17320331", "17999999",
                             "1996*", "-"],
        S + "Modality": ["CT", "C?", "CT\\MR", "*", "ct", "C-T"],
        S + "ScheduledStationAETitle": ["AA33", "AA3?", "AA32\\AB45", "aa32"],
        S + "ScheduledPerformingPhysicianName": ["R*", "ROSS\\JOHNSON"],
        S + "ScheduledProcedureStepStartDate": ["19960101-19961231", "19960406\\19960423",
                                                "19960406-19950101", "20240230", "20241301"],
        S + "ScheduledProcedureStepStartTime": ["120000-", "16", "1607", "16-17", "25", "12:00",
                                                "120000.1234567", "12 ", " 12"],
        "MedicalAlerts": ["ABZESS"], "StudyInstanceUID": ["1.2.276.0.7230010.3.2.101"],
        "PatientWeight": ["70"],
    }
    for key, values in offis.items():
        cases += [("OFFIS", [f"{key}={v}"]) for v in values]
    cases += [("OFFIS", ["PatientName=A\x01B"]), ("OFFIS", ["PatientID=A\tB"]),
              ("OFFIS", ["PatientSex=m", S + "ScheduledProcedureStepStartDate=x", "StudyDate=bad"]),
              ("OFFIS", [S + "ScheduledProcedureStepStartDate=19960406-19960423",
                         S + "ScheduledProcedureStepStartTime=120000-110000"])]
    probe = [["ReferringPhysicianName=Ref*"], ["AdmissionID=ADM1\\ADM2"], ["IssuerOfPatientID=ISS*"],
             ["ResponsiblePerson=Resp^One\\Resp^Two"], ["ResponsiblePersonRole=PAR*"],
             ["ResponsiblePersonRole=PARENT\\CHILD"], ["PatientName=D??^John"], ["PatientSex=*"],
             ["StudyDate=20240101-20240102", "StudyTime=0900-0900"],
             ["StudyDate=20240102", "StudyTime=0900-"], ["StudyDate=-20240102", "StudyTime=0900-"],
             ["StudyDate=20240102-", "StudyTime=-0900"], ["StudyTime=235959.5"],
             [S + "ScheduledProcedureStepStartDate=20240101\\20240105",
              S + "ScheduledProcedureStepStartTime=0700-1300"],
             [S + "ScheduledProcedureStepStartDate=20240101-20240105",
              S + "ScheduledProcedureStepStartTime=1000\\1200"],
             [S + "ScheduledStationAETitle=ST3"], [S + "Modality=MR", "PatientName=Doe*"],
             [S + "Modality=MR", S + "ScheduledStationAETitle=ST1"]]
    cases += [("PROBE", keys + ["AccessionNumber"]) for keys in probe]
    dates = ["20240103", "20240102-20240104", "20240103-", "-20240103", ""]
    times = ["1200", "1000-1400", "1000-", "-1400", ""]
    for (dk, tk), dq, tq in itertools.product(
            [("StudyDate", "StudyTime"),
             (S + "ScheduledProcedureStepStartDate", S + "ScheduledProcedureStepStartTime")],
            dates, times):
        keys = ["AccessionNumber"] + ([f"{dk}={dq}"] if dq else []) + ([f"{tk}={tq}"] if tq else [])
        cases.append(("DT", keys))
    return cases


def build(root: Path, convert) -> None:
    """Write every worklist folder under ``root`` (``convert(dump, wl)`` makes a .wl file)."""
    areas = {"OFFIS": {p.stem: p.read_text() for p in SAMPLES}, "PROBE": PROBE, "DT": DT,
             "SEQ": SEQ, "EFR": EFR, "BAD": {"good": PROBE["A1"]}, "NOLOCK": {"A1": PROBE["A1"]}}
    dumps = root.parent / (root.name + "-dumps")
    dumps.mkdir(exist_ok=True)
    for area, records in areas.items():
        folder = root / area
        folder.mkdir(parents=True)
        if area != "NOLOCK":
            (folder / "lockfile").touch()
        for name, text in records.items():
            dump = dumps / f"{area}-{name}.dump"
            dump.write_text(text)
            convert(dump, folder / f"{name}.wl")
    good = (root / "BAD" / "good.wl").read_bytes()
    (root / "BAD" / "truncated.wl").write_bytes(good[:300])
    (root / "BAD" / "garbage.wl").write_bytes(b"garbage\n")
    (root / "BAD" / "empty.wl").write_bytes(b"")
    (root / "BAD" / "folder.wl").mkdir()
    (root / "BAD" / "other.dcm").write_bytes(good)
