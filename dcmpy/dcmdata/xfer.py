"""Transfer syntaxes (PS3.5 10 and Annex A) and DCMTK's names for them."""
from __future__ import annotations

from dataclasses import dataclass

from .._ext.scan import SYN_EXPLICIT_BE, SYN_EXPLICIT_LE, SYN_IMPLICIT_LE


@dataclass(frozen=True, slots=True)
class TransferSyntax:
    uid: str
    name: str              # as DCMTK prints it after "# Used TransferSyntax:"
    syntax: int            # SYN_* value of the data set encoding
    encapsulated: bool = False
    deflated: bool = False
    lossy: bool = False

    @property
    def little_endian(self) -> bool:
        return self.syntax != SYN_EXPLICIT_BE

    @property
    def explicit_vr(self) -> bool:
        return self.syntax != SYN_IMPLICIT_LE


def _enc(uid: str, name: str, lossy: bool = False) -> TransferSyntax:
    return TransferSyntax(uid, name, SYN_EXPLICIT_LE, encapsulated=True, lossy=lossy)


IMPLICIT_LE = TransferSyntax("1.2.840.10008.1.2", "Little Endian Implicit", SYN_IMPLICIT_LE)
EXPLICIT_LE = TransferSyntax("1.2.840.10008.1.2.1", "Little Endian Explicit", SYN_EXPLICIT_LE)
EXPLICIT_BE = TransferSyntax("1.2.840.10008.1.2.2", "Big Endian Explicit", SYN_EXPLICIT_BE)
DEFLATED_LE = TransferSyntax("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian",
                             SYN_EXPLICIT_LE, deflated=True)

_ALL = [
    IMPLICIT_LE, EXPLICIT_LE, EXPLICIT_BE, DEFLATED_LE,
    _enc("1.2.840.10008.1.2.1.98", "Encapsulated Uncompressed Explicit VR Little Endian"),
    _enc("1.2.840.10008.1.2.4.50", "JPEG Baseline", True),
    _enc("1.2.840.10008.1.2.4.51", "JPEG Extended, Process 2+4", True),
    _enc("1.2.840.10008.1.2.4.52", "JPEG Extended, Process 3+5", True),
    _enc("1.2.840.10008.1.2.4.53", "JPEG Spectral Selection, Non-hierarchical, Process 6+8", True),
    _enc("1.2.840.10008.1.2.4.54", "JPEG Spectral Selection, Non-hierarchical, Process 7+9", True),
    _enc("1.2.840.10008.1.2.4.55", "JPEG Full Progression, Non-hierarchical, Process 10+12", True),
    _enc("1.2.840.10008.1.2.4.56", "JPEG Full Progression, Non-hierarchical, Process 11+13", True),
    _enc("1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-hierarchical, Process 14"),
    _enc("1.2.840.10008.1.2.4.58", "JPEG Lossless, Non-hierarchical, Process 15"),
    _enc("1.2.840.10008.1.2.4.59", "JPEG Extended, Hierarchical, Process 16+18", True),
    _enc("1.2.840.10008.1.2.4.60", "JPEG Extended, Hierarchical, Process 17+19", True),
    _enc("1.2.840.10008.1.2.4.61", "JPEG Spectral Selection, Hierarchical, Process 20+22", True),
    _enc("1.2.840.10008.1.2.4.62", "JPEG Spectral Selection, Hierarchical, Process 21+23", True),
    _enc("1.2.840.10008.1.2.4.63", "JPEG Full Progression, Hierarchical, Process 24+26", True),
    _enc("1.2.840.10008.1.2.4.64", "JPEG Full Progression, Hierarchical, Process 25+27", True),
    _enc("1.2.840.10008.1.2.4.65", "JPEG Lossless, Hierarchical, Process 28"),
    _enc("1.2.840.10008.1.2.4.66", "JPEG Lossless, Hierarchical, Process 29"),
    _enc("1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-hierarchical, 1st Order Prediction"),
    _enc("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless"),
    _enc("1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-lossless)", True),
    _enc("1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless only)"),
    _enc("1.2.840.10008.1.2.4.91", "JPEG 2000 (Lossless or Lossy)", True),
    _enc("1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multicomponent Image Compression (Lossless only)"),
    _enc("1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multicomponent Image Compression (Lossless or Lossy)", True),
    _enc("1.2.840.10008.1.2.4.100", "MPEG2 Main Profile @ Main Level", True),
    _enc("1.2.840.10008.1.2.4.101", "MPEG2 Main Profile @ High Level", True),
    _enc("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", True),
    _enc("1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", True),
    _enc("1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", True),
    _enc("1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", True),
    _enc("1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", True),
    _enc("1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", True),
    _enc("1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", True),
    _enc("1.2.840.10008.1.2.4.110", "JPEG XL Lossless"),
    _enc("1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"),
    _enc("1.2.840.10008.1.2.4.112", "JPEG XL", True),
    _enc("1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)"),
    _enc("1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)"),
    _enc("1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", True),
    _enc("1.2.840.10008.1.2.5", "RLE Lossless"),
    TransferSyntax("1.2.840.10008.1.2.4.94", "JPIP Referenced", SYN_EXPLICIT_LE),
    TransferSyntax("1.2.840.10008.1.2.4.95", "JPIP Referenced Deflate", SYN_EXPLICIT_LE, deflated=True),
]
BY_UID: dict[str, TransferSyntax] = {ts.uid: ts for ts in _ALL}


def lookup(uid: str) -> TransferSyntax | None:
    return BY_UID.get(uid.rstrip("\0 "))
