"""The interoperability corpus: a varied set of DICOM files made from local tools and installed data.

Built once into ``tests/.corpus/v<CORPUS_VERSION>/`` (flat directory, unique file names) plus a
``manifest.json`` describing every file.  Bump ``CORPUS_VERSION`` whenever a recipe changes; the
old build is then removed and rebuilt on the next run.  Sources (no network):

* pydicom's wheel: ``pydicom/data/test_files`` (every ``*.dcm`` and the ``dicomdirtests`` tree)
  and ``pydicom/data/charset_files`` (every character set pydicom knows);
* base files re-encoded with DCMTK's ``dcmconv`` (every uncompressed TS, explicit/undefined
  lengths, group lengths, bare datasets) and GDCM's ``gdcmconv`` (implicit, explicit, deflated);
* datasets written by ``dump2dcm`` from the dcmdump-format texts in ``DUMPS`` below;
* compressed images from ``dcmcrle``, ``dcmcjpeg``, ``dcmcjpls`` and ``gdcmconv``;
* a DICOMDIR from ``dcmgpdir``;
* hand-made byte streams (``_handmade``) for what the tools refuse to write: odd lengths,
  unusual float values, wrong/unknown VRs, UN with undefined length, truncations, non-DICOM.

Files that DCMTK's dcmdump itself cannot read are listed in ``DCMTK_READ_ERRORS`` with the reason;
``tests/test_dcmdump_interop.py::test_dcmtk_reads_corpus`` checks that list against reality.

Run ``python tests/corpus.py`` to (re)build and list the corpus.
"""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

CORPUS_VERSION = "8"

HERE = Path(__file__).resolve().parent
CORPUS_ROOT = HERE / ".corpus"
CORPUS_DIR = CORPUS_ROOT / f"v{CORPUS_VERSION}"


def _pydicom_data() -> Path:
    import pydicom

    return Path(pydicom.__file__).resolve().parent / "data"


# --------------------------------------------------------------------------------------------
# Files that DCMTK 3.6.7's dcmdump (default options) cannot read: name -> reason.
# Everything else in the corpus must dump with exit code 0.
DCMTK_READ_ERRORS: dict[str, str] = {
    "pd__MR_truncated.dcm": "pydicom: deliberately truncated inside PixelData",
    "pd__SC_rgb_jpeg.dcm": "pydicom: deliberately broken (garbage VR '  ' then huge length)",
    "pd__no_meta.dcm": "pydicom: raw dataset whose first bytes misparse as a huge implicit element",
    "pd__rtplan_truncated.dcm": "pydicom: deliberately truncated inside (300a,012c)",
    "dd__README.txt": "pydicom dicomdirtests: plain text file, not DICOM",
    "dd__TINY_ALPHA_README": "pydicom dicomdirtests: plain text file, not DICOM",
    "hand__trunc_value.dcm": "hand-made: file ends inside an element value",
    "hand__trunc_header.dcm": "hand-made: file ends inside an element header",
    "hand__trunc_in_sequence.dcm": "hand-made: file ends inside an undefined-length sequence item",
    "hand__text.txt": "hand-made: plain text, not DICOM",
    "hand__preamble_only.dcm": "hand-made: 128-byte preamble + 'DICM' and nothing else",
    "hand__empty.dcm": "hand-made: zero-length file",
    "cv__nested_priv_SQ__tb_bare.dcm": "dcmconv +tb -F output with illegal group-0001 elements: DCMTK's "
                                       "bare-dataset TS detection misreads it (needs -f -tb)",
}

# Base files for the re-encoding recipes (pydicom test file names).
CONVERT_BASES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "test-SR.dcm", "waveform_ecg.dcm",
                 "examples_overlay.dcm", "nested_priv_SQ.dcm", "chrSQEncoding.dcm"]
DCMCONV_VARIANTS = {
    "ti": ["+ti"],
    "te": ["+te"],
    "tb": ["+tb"],
    "td": ["+td"],
    "te_undef": ["+te", "-e"],
    "ti_undef_gl": ["+ti", "-e", "+g"],
    "tb_gl": ["+tb", "+g"],
    "td_undef": ["+td", "-e"],
    "ti_bare": ["+ti", "-F"],
    "tb_bare": ["+tb", "-F", "-e"],
    "te_bare_gl": ["+te", "-F", "+g"],
}
GDCMCONV_BASES = ["CT_small.dcm", "MR_small.dcm", "rtplan.dcm", "test-SR.dcm"]
GDCMCONV_VARIANTS = {"implicit": ["-M"], "explicit": ["-X"], "deflated": ["-d"]}


@dataclass(frozen=True)
class Entry:
    path: Path
    source: str  # short recipe description
    bare: bool  # True if the file has no 128-byte preamble + 'DICM'
    dcmtk_error: str | None  # reason if DCMTK's dcmdump cannot read it (see DCMTK_READ_ERRORS)

    @property
    def name(self) -> str:
        return self.path.name


# --------------------------------------------------------------------------------------------
# dump2dcm texts

def _nested_dump(depth: int) -> str:
    lines = ["(0008,0016) UI =BasicTextSRStorage", "(0008,0018) UI [1.2.826.0.1.3680043.2.1143.1]",
             "(0040,a040) CS [CONTAINER]"]
    for level in range(depth):
        ind = "  " * level
        lines.append(f"{ind}(0040,a730) SQ (Sequence with undefined length #=1)")
        lines.append(f"{ind}  (fffe,e000) na (Item with undefined length #=3)")
        lines.append(f"{ind}    (0040,a010) CS [CONTAINS]")
        lines.append(f"{ind}    (0040,a160) UT [level {level + 1}]")
    for level in reversed(range(depth)):
        ind = "  " * level
        lines.append(f"{ind}  (fffe,e00d) na (ItemDelimitationItem)")
        lines.append(f"{ind}(fffe,e0dd) na (SequenceDelimitationItem)")
    return "\n".join(lines) + "\n"


BS = "\\"
LONG_TEXT = ("This is a long text value that goes on and on, well beyond the seventy characters "
             "that dcmdump prints by default; it exercises the truncation rule (67 + '...').")

DUMPS: dict[str, str] = {
    "nested50": _nested_dump(50),
    "nested3": _nested_dump(3),
    "allvr": r"""
(0008,0005) CS [ISO_IR 100]
(0008,0008) CS [ORIGINAL\PRIMARY\AXIAL\]
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.2]
(0008,0020) DA [20240229]
(0008,0021) DA []
(0008,002a) DT [20240229123456.123456+0100]
(0008,0030) TM [235959.999999]
(0008,0031) TM [01]
(0008,0054) AE [STORESCP\ANY-SCP\ ]
(0008,0119) UC [a long unlimited characters value\second\third]
(0008,0120) UR [http://dicom.nema.org/medical/dicom/current/output/chtml/part05/sect_6.2.html]
(0008,1080) LO [first diagnosis\second diagnosis\\fourth]
(0008,2122) IS [7]
(0008,0081) ST [An institution address with    several  spaces  ]
(0010,0010) PN [Doe^John^Q^Dr.^Jr.\Roe^Jane]
(0010,0020) LO [ID 123]
(0010,0030) DA [19700101]
(0010,1010) AS [045Y]
(0010,1020) DS [1.80]
(0010,1030) DS []
(0010,2160) SH [ethnic]
(0010,4000) LT [line one\nline two\twith tab]
(0018,0086) IS [1\2\3\+4\-5\ 6 ]
(0018,1149) IS [250\300]
(0018,1200) DA [20200101\20210101]
(0018,1201) TM [1010\101010.1]
(0018,1310) US 0\256\256\0
(0018,1650) SL []
(0018,6020) SL -2147483648
(0018,6022) SL 2147483647
(0018,9089) FD 0\0.5\-1
(0018,9219) SS -32768
(0018,9440) SS 32767\-1
(0018,9087) FD 1000
(0018,9461) FL 0.1\1e-07
(0018,7036) FL -1.5\3.4028235e+38
(0018,1164) DS [0.3125\0.3125]
(0020,0032) DS [-125.0\-125.0\1.5e2]
(0020,0037) DS [1\0\0\0\1\0]
(0020,5000) AT (0010,0010)\(0008,0020)\(7fe0,0010)
(0028,0009) AT (0018,1063)
(0028,0010) US 4
(0028,0011) US 4
(0028,0030) DS [ 0.5 \0.5]
(0028,0100) US 16
(0028,0101) US 12
(0028,0102) US 11
(0028,0103) US 1
(0028,0106) SS -100
(0028,0107) SS 4000
(0028,1052) DS [-1024]
(0028,1053) DS [1]
(0040,0001) AE []
(0040,a162) SL 1\-1\0
(0040,a30a) DS [1\2.5\-3e-5\4.0E+10]
(0066,0022) OD 1.5\-2.25\0\1e+300
(0066,0040) OL 1\2\3\4294967295
(0018,1638) OF 0.5\0.001\-0
(0072,0081) OV 1\18446744073709551615
(0072,0082) SV -1\9223372036854775807\-9223372036854775808
(0072,0083) UV 0\18446744073709551615
(0072,006d) UN 01\02\03\04
(0008,030e) UT [unlimited text]
(0040,0275) SQ (Sequence with explicit length #=0)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
(0028,1201) OW 0000\ffff\1234\abcd
(0028,1202) OW
(0029,0010) LO [SIEMENS CSA HEADER]
(0042,0011) OB 25\50\44\46\2d\31\2e\34\0a
(7fe0,0010) OW 0000\0001\0002\0003\0004\0005\0006\0007\0008\0009\000a\000b\000c\000d\000e\000f
""",
    "long": f"""
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.3.123456789.123456789.123456789.123456789]
(0008,0058) UI [1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19\\1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.20\\1.2.3.4]
(0008,1080) LO [{"X" * 64}\\{"Y" * 64}]
(0008,0081) ST [{LONG_TEXT}]
(0010,0010) PN [{"A" * 60}^{"B" * 60}]
(0010,21b0) LT [{LONG_TEXT} {LONG_TEXT}]
(0018,0086) IS [{BS.join(str(i * 1001) for i in range(40))}]
(0018,9079) FD {BS.join(str(i / 7) for i in range(30))}
(0018,605a) FL {BS.join(str(i * 0.25) for i in range(40))}
(0018,1310) US 1\\2\\3\\4
(0008,0304) US {BS.join(str(i) for i in range(60))}
(0020,0037) DS [0.99999999\\0.00001\\0\\0\\0.99999999\\0.00001]
(0020,5000) AT {BS.join("(0008,%04x)" % (i * 2) for i in range(30))}
(0028,1201) OW {BS.join("%04x" % (i * 257 & 0xFFFF) for i in range(300))}
(0042,0011) OB {BS.join("%02x" % (i & 0xFF) for i in range(301))}
(0072,006d) UN {BS.join("%02x" % (255 - (i & 0xFF)) for i in range(100))}
(0008,030e) UT [{LONG_TEXT * 3}]
(0008,0119) UC [{"uc" * 50}]
(0008,0120) UR [http://example.com/{"path/" * 20}]
(0070,0022) FL {BS.join(str(i * 1.5) for i in range(50))}
(0066,0040) OL {BS.join(str(i * 100000) for i in range(50))}
(0066,0022) OD {BS.join(str(i * 0.125) for i in range(50))}
""",
    "empty_sq": r"""
(0008,0016) UI =CTImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.4]
(0008,1110) SQ (Sequence with explicit length #=0)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
(0008,1111) SQ (Sequence with explicit length #=2)
  (fffe,e000) na (Item with explicit length #=0)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
  (fffe,e000) na (Item with explicit length #=2)
    (0008,1150) UI =CTImageStorage
    (0008,1155) UI []
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
(0008,1140) SQ (Sequence with explicit length #=3)
  (fffe,e000) na (Item with explicit length #=1)
    (0040,a730) SQ (Sequence with explicit length #=0)
    (fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
  (fffe,e000) na (Item with explicit length #=0)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
  (fffe,e000) na (Item with explicit length #=1)
    (0040,a730) SQ (Sequence with explicit length #=1)
      (fffe,e000) na (Item with explicit length #=0)
      (fffe,e00d) na (ItemDelimitationItem for re-encoding)
    (fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
(0010,0010) PN []
(0010,0020) LO []
""",
    "private": r"""
(0008,0016) UI =MRImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.5]
(0009,0010) LO [GEMS_IDEN_01]
(0009,1001) LO [GE full name]
(0009,1002) SH [suite]
(0011,0010) LO [ACME 1.0]
(0011,0011) LO [SECOND CREATOR]
(0011,1001) LO [acme value]
(0011,1002) US 1\2\3
(0011,1003) OB 01\02\03\04
(0011,1101) DS [1.5\2.5]
(0013,1001) LO [no creator]
(0019,0010) LO [SIEMENS MR HEADER]
(0019,1008) CS [IMAGE NUM 4]
(0019,100b) DS [1000]
(0019,100c) IS [500]
(0029,0010) LO [SIEMENS CSA HEADER]
(0029,0011) LO [SIEMENS MEDCOM HEADER]
(0029,1008) CS [IMAGE NUM 4]
(0029,1009) LO [20050726]
(0029,1010) OB 53\56\31\30\04\03\02\01
(0029,1018) CS [MR]
(0029,1019) LO [20050726]
(0029,1020) OB 00\11\22\33
(0029,1131) LO [MEDCOM value]
(0029,1160) LO [another]
(0043,0010) LO [GEMS_PARM_01]
(0043,1001) SS -5
(0043,1002) SS 7
(0099,0010) LO [UNKNOWN CREATOR]
(0099,1001) UN 41\42\43\44
(0099,1002) LO [unknown value]
(0099,1003) SQ (Sequence with explicit length #=1)
  (fffe,e000) na (Item with explicit length #=2)
    (0099,0010) LO [UNKNOWN CREATOR]
    (0099,1001) LO [nested private]
  (fffe,e00d) na (ItemDelimitationItem for re-encoding)
(fffe,e0dd) na (SequenceDelimitationItem for re-encod.)
""",
    "repeating": r"""
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [1.2.826.0.1.3680043.2.1143.6]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 4
(0028,0011) US 4
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(5000,0005) US 2
(5000,0010) US 3
(5000,0020) CS [POLY]
(5000,3000) OW 0001\0002\0003\0004\0005\0006
(5002,0005) US 2
(6000,0010) US 4
(6000,0011) US 4
(6000,0022) LO [overlay description]
(6000,0040) CS [G]
(6000,0050) SS 1\1
(6000,0100) US 1
(6000,0102) US 0
(6000,1500) LO [label]
(6000,3000) OW ffff\0000
(6002,0010) US 4
(6002,0011) US 4
(6002,0040) CS [R]
(601e,0010) US 1
(7fe0,0010) OB 00\01\02\03\04\05\06\07\08\09\0a\0b\0c\0d\0e\0f
""",
}

# name -> dump2dcm options (output TS, lengths, meta header)
DUMP_VARIANTS = {
    "te": [],
    "te_undef": ["-e"],
    "ti": ["+ti"],
    "tb_undef": ["+tb", "-e"],
    "td": ["+td"],
    "ti_bare": ["+ti", "-F"],
    "te_gl": ["+g"],
}


# --------------------------------------------------------------------------------------------
# hand-made byte streams

def _pad(b: bytes, pad: bytes = b" ") -> bytes:
    return b + pad if len(b) % 2 else b


_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def _el(tag: int, vr: bytes, value: bytes, *, explicit: bool = True, big: bool = False,
        length: int | None = None) -> bytes:
    e = ">" if big else "<"
    n = len(value) if length is None else length
    head = struct.pack(e + "HH", tag >> 16, tag & 0xFFFF)
    if not explicit:
        return head + struct.pack(e + "I", n) + value
    if vr in _LONG_VRS:
        return head + vr + b"\0\0" + struct.pack(e + "I", n) + value
    return head + vr + struct.pack(e + "H", n) + value


def _item(body: bytes, *, undefined: bool = False, big: bool = False) -> bytes:
    e = ">" if big else "<"
    if undefined:
        return struct.pack(e + "HHI", 0xFFFE, 0xE000, 0xFFFFFFFF) + body + struct.pack(e + "HHI", 0xFFFE, 0xE00D, 0)
    return struct.pack(e + "HHI", 0xFFFE, 0xE000, len(body)) + body


SEQ_DELIM = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
UNDEF = 0xFFFFFFFF


def _meta(ts_uid: str, sop_class: str = "1.2.840.10008.5.1.4.1.1.7",
          sop_inst: str = "1.2.826.0.1.3680043.2.1143.99") -> bytes:
    def ui(s: str) -> bytes:
        return _pad(s.encode(), b"\0")

    body = (_el(0x00020001, b"OB", b"\0\1") + _el(0x00020002, b"UI", ui(sop_class))
            + _el(0x00020003, b"UI", ui(sop_inst)) + _el(0x00020010, b"UI", ui(ts_uid))
            + _el(0x00020012, b"UI", ui("1.2.826.0.1.3680043.2.1143")) + _el(0x00020013, b"SH", b"HANDMADE"))
    return b"\0" * 128 + b"DICM" + _el(0x00020000, b"UL", struct.pack("<I", len(body))) + body


EXPL_LE = "1.2.840.10008.1.2.1"
IMPL_LE = "1.2.840.10008.1.2"
JPEG_BASELINE = "1.2.840.10008.1.2.4.50"


def _handmade() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    sc = _el(0x00080016, b"UI", _pad(b"1.2.840.10008.5.1.4.1.1.7", b"\0"))
    si = _el(0x00080018, b"UI", _pad(b"1.2.826.0.1.3680043.2.1143.100", b"\0"))

    # odd lengths where the standard forbids them but files exist
    files["odd_lengths.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00080060, b"CS", b"MR ")
        + _el(0x00080070, b"LO", b"ODD")
        + _el(0x00080080, b"LO", b"odd with trailing")
        + _el(0x00090010, b"LO", b"ODD CREATOR ")
        + _el(0x00091001, b"UN", b"\1\2\3\4\5")
        + _el(0x00091002, b"OB", b"\xaa\xbb\xcc")
        + _el(0x00181310, b"US", b"\1\0\2")
        + _el(0x00189087, b"FD", b"\0" * 12)
        + _el(0x00281201, b"OW", b"\1\2\3")
        + _el(0x7FE00010, b"OW", b"\1\2\3\4\5")
    )
    # float/integer extremes and special values (deliberately not in ascending tag order)
    fl = struct.pack("<8f", float("nan"), float("inf"), float("-inf"), -0.0, 1e-45, 3.4028235e38, 0.1, 123456.789)
    fd = struct.pack("<9d", float("nan"), float("inf"), float("-inf"), -0.0, 5e-324, 1.7976931348623157e308,
                     0.1, 1 / 3, 123456789.123456789)
    files["numbers.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00180013, b"FL", fl)
        + _el(0x00181310, b"US", struct.pack("<4H", 0, 1, 32768, 65535))
        + _el(0x00186020, b"SL", struct.pack("<i", -1))
        + _el(0x00186052, b"UL", struct.pack("<3I", 0, 2147483648, 4294967295))
        + _el(0x00189079, b"FD", fd)
        + _el(0x00189219, b"SS", struct.pack("<h", -1))
        + _el(0x0018605A, b"FL", b"")
        + _el(0x00660022, b"OD", struct.pack("<3d", 1e-310, -2.5, 1e22))
        + _el(0x00181638, b"OF", struct.pack("<3f", 1e-40, -2.5, 1e22))
        + _el(0x00720082, b"SV", struct.pack("<2q", -(2 ** 63), 2 ** 63 - 1))
        + _el(0x00720083, b"UV", struct.pack("<Q", 2 ** 64 - 1))
    )
    # raw bytes without a specific character set: latin-1, control characters, ESC, NUL
    files["raw_bytes.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00080080, b"LO", _pad("Klinikum M\u00fcnchen \u00c4\u00d6".encode("latin-1")))
        + _el(0x00081030, b"LO", _pad(b"tab\there\x1b$B\x00nul"))
        + _el(0x00100010, b"PN", _pad("M\u00fcller^J\u00fcrgen".encode("latin-1")))
        + _el(0x00104000, b"LT", _pad(b"line1\r\nline2\rline3\nend\x7f\xff"))
        + _el(0x00324000, b"LT", _pad(("\u00e9" * 80).encode("latin-1")))
    )
    # UTF-8 character set with multi-byte values
    files["utf8.dcm"] = _meta(EXPL_LE) + (
        _el(0x00080005, b"CS", b"ISO_IR 192")
        + sc + si
        + _el(0x00080080, b"LO", _pad("Universit\u00e4tsklinikum \u6771\u4eac".encode()))
        + _el(0x00100010, b"PN", _pad("Yamada^Tarou=\u5c71\u7530^\u592a\u90ce=\u3084\u307e\u3060^\u305f\u308d\u3046".encode()))
        + _el(0x00104000, b"LT", _pad(("\u00fc\u4e2d" * 40).encode()))
    )
    # wrong and unknown VRs in explicit VR
    files["wrong_vr.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00080020, b"LO", b"20240101")
        + _el(0x00100010, b"LO", b"WRONG^VR")
        # unknown VR 'ZZ': DCMTK assumes the 4-byte length layout (2 reserved bytes + UL length)
        + struct.pack("<HH", 0x0010, 0x0020) + b"ZZ\0\0" + struct.pack("<I", 4) + b"ZZID"
        + _el(0x00101010, b"UN", b"045Y")
        + _el(0x00280010, b"SS", struct.pack("<h", 4))
    )
    # UN with undefined length holding an implicit-VR sequence (CP-246)
    inner = _item(_el(0x00081150, b"", _pad(b"1.2.840.10008.5.1.4.1.1.2", b"\0"), explicit=False)
                  + _el(0x00081155, b"", _pad(b"1.2.3.4", b"\0"), explicit=False), undefined=True)
    files["un_undefined_seq.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00081140, b"UN", inner + SEQ_DELIM, length=UNDEF)
        + _el(0x00100010, b"PN", b"AFTER^UN")
    )
    # implicit VR bare dataset: private/unknown tags, ambiguous VRs
    imp = lambda tag, val: _el(tag, b"", val, explicit=False)  # noqa: E731
    files["implicit_bare.dcm"] = (
        imp(0x00080016, _pad(b"1.2.840.10008.5.1.4.1.1.2", b"\0"))
        + imp(0x00080018, _pad(b"1.2.826.0.1.3680043.2.1143.101", b"\0"))
        + imp(0x00090010, b"GEMS_IDEN_01")
        + imp(0x00091001, b"GE name ")
        + imp(0x00091002, b"ABCD")
        + imp(0x00111001, b"ABCD")
        + imp(0x00280100, struct.pack("<H", 16))
        + imp(0x00280103, struct.pack("<H", 1))
        + imp(0x00280106, struct.pack("<h", -5))
        + imp(0x00283006, struct.pack("<4H", 1, 2, 3, 4))
        + imp(0x00290010, b"SIEMENS CSA HEADER")
        + imp(0x00291008, b"IMAGE NUM 4 ")
        + imp(0x00291010, b"SV10\4\3\2\1")
        + imp(0x00510010, b"UNKNOWN")
        + imp(0x00511001, b"\1\2")
        + imp(0x60000010, struct.pack("<H", 4))
        + imp(0x60003000, b"\xff\x00")
        + imp(0x7FE00010, struct.pack("<8H", *range(8)))
    )
    # encapsulated pixel data: empty BOT, zero-length and odd fragments, extended offset table
    frags = _el(0x7FE00010, b"OB", b"", length=UNDEF)
    frags += struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # empty basic offset table
    frags += struct.pack("<HHI", 0xFFFE, 0xE000, 0)  # empty fragment
    frags += struct.pack("<HHI", 0xFFFE, 0xE000, 10) + b"\xff\xd8" + b"\0" * 6 + b"\xff\xd9"
    frags += struct.pack("<HHI", 0xFFFE, 0xE000, 64) + bytes(range(64))
    frags += SEQ_DELIM
    files["encaps_eot.dcm"] = _meta(JPEG_BASELINE) + (
        sc + si
        + _el(0x00280002, b"US", struct.pack("<H", 1))
        + _el(0x00280010, b"US", struct.pack("<H", 2))
        + _el(0x00280011, b"US", struct.pack("<H", 2))
        + _el(0x00280100, b"US", struct.pack("<H", 8))
        + _el(0x7FE00001, b"OV", struct.pack("<2Q", 0, 18))
        + _el(0x7FE00002, b"OV", struct.pack("<2Q", 10, 64))
        + frags
    )
    # mixed lengths: explicit-length sequence holding undefined-length items and vice versa
    it1 = _item(_el(0x00081150, b"UI", _pad(b"1.2.3", b"\0")), undefined=True)
    it2 = _item(_el(0x00081155, b"UI", _pad(b"1.2.3.4", b"\0")))
    seq_undef = _el(0x00081115, b"SQ", it2 + _item(b"", undefined=True) + SEQ_DELIM, length=UNDEF)
    files["mixed_lengths.dcm"] = _meta(EXPL_LE) + (
        sc + si
        + _el(0x00081110, b"SQ", it1 + it2)
        + seq_undef
        + _el(0x00081140, b"SQ", b"", length=UNDEF) + SEQ_DELIM
        + _el(0x00100010, b"PN", b"MIXED^LENGTHS ")
    )
    # truncations (DCMTK cannot read these: see DCMTK_READ_ERRORS)
    good = _meta(EXPL_LE) + sc + si + _el(0x00100010, b"PN", b"TRUNC^ATED") + _el(0x00104000, b"LT", b"x" * 100)
    files["trunc_value.dcm"] = good[:-40]
    files["trunc_header.dcm"] = good + b"\x10\x00\x20\x00LO"
    files["trunc_in_sequence.dcm"] = (_meta(EXPL_LE) + sc + si + _el(0x00081140, b"SQ", b"", length=UNDEF)
                                      + struct.pack("<HHI", 0xFFFE, 0xE000, UNDEF)
                                      + _el(0x00081150, b"UI", _pad(b"1.2.3", b"\0")))
    files["text.txt"] = b"This is not a DICOM file.\nIt has two lines.\n"
    files["preamble_only.dcm"] = b"\0" * 128 + b"DICM"
    files["empty.dcm"] = b""
    return files


# --------------------------------------------------------------------------------------------
# build

def _run(cmd: list[str], cwd: Path | None = None) -> None:
    env = dict(os.environ)
    env.pop("DCMDICTPATH", None)
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"corpus recipe failed ({r.returncode}): {' '.join(map(str, cmd))}\n"
                           f"{r.stderr.decode(errors='replace')[-2000:]}")


def _build(out: Path) -> None:
    data = _pydicom_data()
    tf, cf = data / "test_files", data / "charset_files"
    jobs: list[list[str]] = []

    # 1. pydicom's public files, copied under unique flat names
    for p in sorted(tf.glob("*.dcm")):
        shutil.copyfile(p, out / f"pd__{p.name}")
    for p in sorted(cf.glob("*.dcm")):
        shutil.copyfile(p, out / f"cs__{p.name}")
    for p in sorted((tf / "dicomdirtests").rglob("*")):
        if p.is_file():
            rel = "_".join(p.relative_to(tf / "dicomdirtests").parts)
            shutil.copyfile(p, out / f"dd__{rel}")

    # 2. re-encodings
    for base in CONVERT_BASES:
        src = tf / base if (tf / base).exists() else cf / base
        stem = Path(base).stem
        for var, opts in DCMCONV_VARIANTS.items():
            jobs.append(["/usr/bin/dcmconv", *opts, str(src), str(out / f"cv__{stem}__{var}.dcm")])
    for base in GDCMCONV_BASES:
        for var, opts in GDCMCONV_VARIANTS.items():
            jobs.append(["/usr/bin/gdcmconv", *opts, str(tf / base), str(out / f"gd__{Path(base).stem}__{var}.dcm")])

    # 3. dump2dcm datasets
    work = Path(tempfile.mkdtemp(prefix="dcmpy-corpus-"))
    try:
        for name, text in DUMPS.items():
            dump = work / f"{name}.dump"
            dump.write_text(text, encoding="latin-1")
            for var, opts in DUMP_VARIANTS.items():
                jobs.append(["/usr/bin/dump2dcm", *opts, str(dump), str(out / f"dump__{name}__{var}.dcm")])

        # 4. compressed
        ct, mr, rgb = tf / "CT_small.dcm", tf / "MR_small.dcm", tf / "examples_rgb_color.dcm"
        jobs += [
            ["/usr/bin/dcmcrle", str(ct), str(out / "cmp__CT_small__rle.dcm")],
            ["/usr/bin/dcmcrle", str(rgb), str(out / "cmp__rgb__rle.dcm")],
            ["/usr/bin/dcmcjpeg", "+eb", str(rgb), str(out / "cmp__rgb__jpeg_baseline.dcm")],
            ["/usr/bin/dcmcjpeg", "+eb", "-ot", str(ct), str(out / "cmp__CT_small__jpeg_baseline_nobot.dcm")],
            ["/usr/bin/dcmcjpeg", "+el", str(mr), str(out / "cmp__MR_small__jpeg_lossless.dcm")],
            ["/usr/bin/dcmcjpeg", "+el", "+fs", "1", str(ct), str(out / "cmp__CT_small__jpeg_lossless_frag.dcm")],
            ["/usr/bin/dcmcjpls", str(ct), str(out / "cmp__CT_small__jpls.dcm")],
            ["/usr/bin/dcmcjpls", "+en", "+fs", "2", str(rgb), str(out / "cmp__rgb__jpls_near_frag.dcm")],
            ["/usr/bin/gdcmconv", "--j2k", str(ct), str(out / "cmp__CT_small__j2k.dcm")],
            ["/usr/bin/gdcmconv", "--j2k", str(rgb), str(out / "cmp__rgb__j2k.dcm")],
            ["/usr/bin/gdcmconv", "--rle", str(mr), str(out / "cmp__MR_small__gdcm_rle.dcm")],
            ["/usr/bin/gdcmconv", "--jpegls", str(mr), str(out / "cmp__MR_small__gdcm_jpls.dcm")],
            ["/usr/bin/gdcmconv", "--raw", str(tf / "JPEG2000.dcm"), str(out / "gd__JPEG2000__raw.dcm")],
            ["/usr/bin/gdcmconv", "--raw", str(tf / "MR_small_RLE.dcm"), str(out / "gd__MR_small_RLE__raw.dcm")],
        ]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_run, jobs))

        # 5. DICOMDIR over a few of the files above
        fs = work / "fs"
        (fs / "IMAGES").mkdir(parents=True)
        for i, n in enumerate(["pd__CT_small.dcm", "pd__MR_small.dcm", "cv__CT_small__ti.dcm",
                               "cmp__CT_small__rle.dcm", "pd__test-SR.dcm"]):
            shutil.copyfile(out / n, fs / "IMAGES" / f"IM{i:06d}")
        _run(["/usr/bin/dcmgpdir", "+I", "-Nxc", "+r", "+D", str(fs / "DICOMDIR"), "IMAGES"], cwd=fs)
        shutil.copyfile(fs / "DICOMDIR", out / "dir__dcmgpdir_DICOMDIR")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # 6. hand-made
    for name, blob in _handmade().items():
        (out / f"hand__{name}").write_bytes(blob)


def _is_bare(p: Path) -> bool:
    with open(p, "rb") as f:
        head = f.read(132)
    return not (len(head) == 132 and head[128:] == b"DICM")


def ensure_corpus() -> Path:
    """Build the corpus if this version is not there yet; return its directory."""
    manifest = CORPUS_DIR / "manifest.json"
    if manifest.exists():
        return CORPUS_DIR
    CORPUS_ROOT.mkdir(exist_ok=True)
    for old in CORPUS_ROOT.iterdir():
        if old.is_dir() and old != CORPUS_DIR:
            shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"v{CORPUS_VERSION}.", dir=CORPUS_ROOT))
    try:
        _build(tmp)
        names = sorted(p.name for p in tmp.iterdir())
        missing = sorted(set(DCMTK_READ_ERRORS) - set(names))
        if missing:
            raise RuntimeError(f"DCMTK_READ_ERRORS names files not in the corpus: {missing}")
        (tmp / "manifest.json").write_text(json.dumps(
            {"version": CORPUS_VERSION, "files": names}, indent=1))
        if CORPUS_DIR.exists():
            shutil.rmtree(CORPUS_DIR)
        tmp.rename(CORPUS_DIR)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return CORPUS_DIR


def _source(name: str) -> str:
    return {"pd": "pydicom test file", "cs": "pydicom charset file", "dd": "pydicom dicomdirtests",
            "cv": "dcmconv", "gd": "gdcmconv", "dump": "dump2dcm", "cmp": "compressed",
            "dir": "dcmgpdir", "hand": "hand-made"}.get(name.split("__", 1)[0], "?")


def corpus_entries() -> list[Entry]:
    d = ensure_corpus()
    names = json.loads((d / "manifest.json").read_text())["files"]
    return [Entry(d / n, _source(n), _is_bare(d / n), DCMTK_READ_ERRORS.get(n)) for n in sorted(names)]


def corpus_files() -> list[Path]:
    return [e.path for e in corpus_entries()]


if __name__ == "__main__":
    if "--rebuild" in sys.argv and CORPUS_DIR.exists():
        shutil.rmtree(CORPUS_DIR)
    import time

    t0 = time.monotonic()
    entries = corpus_entries()
    for e in entries:
        print(f"{e.name:60s} {e.source:22s} {'bare' if e.bare else 'file'} {e.dcmtk_error or ''}")
    print(f"{len(entries)} files in {CORPUS_DIR} ({time.monotonic() - t0:.1f} s)")
