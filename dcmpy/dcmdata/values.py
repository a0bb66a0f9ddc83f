"""Element values: bytes as stored <-> Python values, VR by VR (PS3.5 6.2).

Numbers become Python scalars (VM 1) or NumPy arrays that view the stored bytes without copying;
strings become ``str`` (a list for VM > 1); AT becomes an int tag.
"""
from __future__ import annotations

import struct
from typing import Any, Sequence

from .vr import NUMERIC_VRS, OTHER_VRS, SINGLE_VALUED, STRING_VRS, TEXT_VRS


# string VRs whose single value needs no conversion beyond stripping the padding
_PLAIN_STRINGS = frozenset({"AE", "AS", "CS", "DA", "DT", "LO", "PN", "SH", "TM", "UC", "UI"})


def _split(text: str, vr: str) -> str | list[str]:
    if vr in SINGLE_VALUED or "\\" not in text:
        return text
    return text.split("\\")


def _strip(text: str, vr: str) -> str:
    if vr == "UI":
        return text.rstrip("\0 ")
    if vr in ("LT", "ST", "UT", "UR"):
        return text.rstrip(" \0")
    return text.strip(" \0")


def _number(text: str, kind: type) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text) if kind is float else int(text)
    except ValueError:
        try:
            return int(float(text)) if kind is int else text
        except (ValueError, OverflowError):   # '1e999', 'inf': keep the text
            return text


def decode(raw: bytes | memoryview, vr: str, little: bool = True,
           charsets: Sequence[str] = ()) -> Any:
    """Decode one element's stored bytes into a Python value."""
    if vr in STRING_VRS:
        if vr in TEXT_VRS and charsets:
            from .charset import decode as decode_text
            text = decode_text(bytes(raw), charsets, vr)
        else:
            text = str(raw, "latin-1")
        if vr in _PLAIN_STRINGS and "\\" not in text:
            return text.strip(" \0")
        parts = _split(text, vr)
        if isinstance(parts, str):
            return _convert_one(_strip(parts, vr), vr)
        return [_convert_one(_strip(p, vr), vr) for p in parts]
    if vr in NUMERIC_VRS or vr == "xs":
        code, size = NUMERIC_VRS["US" if vr == "xs" else vr]
        n = len(raw) // size
        if n == 1:
            return numbers(raw, vr, little)[0]
        import numpy as np
        dtype = np.dtype(code).newbyteorder("<" if little else ">")
        return np.frombuffer(raw, dtype=dtype, count=n)
    if vr == "AT":
        words = numbers(raw, "US", little)
        tags = [(words[i] << 16) | words[i + 1] for i in range(0, len(words) - 1, 2)]
        return tags[0] if len(tags) == 1 else tags
    if vr in OTHER_VRS and vr not in ("OB", "UN"):
        import numpy as np
        size = OTHER_VRS[vr]
        kind = "f" if vr in ("OF", "OD") else "u"
        dtype = np.dtype(f"{'<' if little else '>'}{kind}{size}")
        return np.frombuffer(raw, dtype=dtype, count=len(raw) // size)
    return bytes(raw)


_STRUCT_CODES = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "UV": "Q", "SV": "q", "FL": "f",
                 "FD": "d", "xs": "H", "OW": "H", "OL": "I", "OV": "Q", "OF": "f", "OD": "d",
                 "up": "I", "lt": "H"}


def numbers(raw: bytes | memoryview, vr: str, little: bool = True) -> tuple:
    """The binary numbers of ``raw`` as a tuple of Python ints/floats (no NumPy)."""
    code = _STRUCT_CODES[vr]
    n = len(raw) // struct.calcsize(code)
    return struct.unpack_from(f"{'<' if little else '>'}{n}{code}", raw)


def _convert_one(text: str, vr: str) -> Any:
    if vr == "DS":
        return _number(text, float)
    if vr == "IS":
        return _number(text, int)
    return text


def _format_number(value: Any, vr: str) -> str:
    if isinstance(value, str):
        return value
    if vr == "IS":
        return str(int(value))
    text = repr(float(value))
    if text.endswith(".0"):
        text = text[:-2]
    if len(text) > 16:
        text = f"{float(value):.10g}"
    return text


def encode(value: Any, vr: str, little: bool = True, charsets: Sequence[str] = ()) -> bytes:
    """Encode a Python value for ``vr``, padded to even length."""
    if value is None:
        return b""
    if vr in STRING_VRS:
        items = value if isinstance(value, (list, tuple)) else [value]
        if vr in ("DS", "IS"):
            items = ["" if v is None else _format_number(v, vr) for v in items]
        text = "\\".join(str(v) for v in items)
        if vr in TEXT_VRS and charsets:
            from .charset import encode as encode_text
            data = encode_text(text, charsets, vr)
        else:
            data = text.encode("latin-1")
        if len(data) % 2:
            data += b"\0" if vr == "UI" else b" "
        return data
    if isinstance(value, bytes) and vr not in NUMERIC_VRS and vr != "AT":
        return value + b"\0" if len(value) % 2 else value   # OB/UN bytes: no NumPy import
    import numpy as np
    if vr in NUMERIC_VRS:
        dtype = np.dtype(NUMERIC_VRS[vr][0])
        if not little:
            dtype = dtype.newbyteorder(">")
        return np.asarray(value, dtype=dtype).reshape(-1).tobytes()
    if vr == "AT":
        tags = value if isinstance(value, (list, tuple)) else [value]
        words = [w for t in tags for w in (t >> 16, t & 0xFFFF)]
        return np.asarray(words, dtype="<u2" if little else ">u2").tobytes()
    if isinstance(value, np.ndarray):
        size = OTHER_VRS.get(vr, 1)
        data = value.astype(value.dtype.newbyteorder("<" if little else ">"), copy=False).tobytes()
        if size == 1:
            data = value.tobytes()
    else:
        data = bytes(value)
    if len(data) % 2:
        data += b"\0"
    return data


def value_multiplicity(raw: bytes | memoryview, vr: str) -> int:
    """VM as DCMTK counts it from the stored bytes."""
    n = len(raw)
    if vr in NUMERIC_VRS or vr == "xs":
        return n // NUMERIC_VRS.get(vr, ("", 2))[1]
    if vr == "AT":
        return n // 4
    if vr in STRING_VRS:
        if n == 0:
            return 0
        if vr in SINGLE_VALUED:
            return 1
        return bytes(raw).count(b"\\") + 1
    return 1 if n else 0
