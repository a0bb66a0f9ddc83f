"""Specific Character Set (0008,0005): decoding and encoding of text values.

Implements PS3.5 section 6.1 (character repertoires, ISO/IEC 2022 code extensions)
and the defined terms of PS3.3 C.12.1.1.2, with the Japanese (Annex H), Korean
(Annex I) and Chinese (Annexes J and K) conventions.

Public API::

    decode(raw, charsets, vr) -> str
    encode(text, charsets, vr) -> bytes
    python_codec(term) -> str | None
    to_utf8(raw, charsets, vr) -> bytes

Conventions
-----------
* ``charsets`` is the list of values of (0008,0005).  An empty list, ``None`` or
  ``['']`` means the default repertoire (ISO_IR 6).  A single string is accepted
  too and split on backslashes.
* ``decode`` drops trailing padding (SPACE and NUL) at the end of the whole value,
  as DCMTK does for these VRs; ``encode`` never pads (the writer does that).
* Decoding never raises: undecodable bytes become U+FFFD, unknown or invalid
  terms fall back to the default repertoire (bytes above 0x7F are then read as
  ISO 8859-1, like most readers do) and a warning is logged on the logger
  ``dcmpy.dcmdata.charset``.
* With ISO 2022 code extensions, the code element designated by value 1 is made
  active again at every delimiter of the VR: CR, LF, FF, TAB and any other control
  character; ``\\`` for the multi-valued VRs (everything but LT, ST, UT); ``^`` and
  ``=`` for PN.  A delimiter byte is recognised only while a single-byte set is in
  G0 (while a two-byte set is in G0, ``^``, ``=`` and ``\\`` are halves of a
  character; PS3.5 requires the encoder to switch back first).
* JIS X 0201 Romaji (G0 of ISO_IR 13 / ISO 2022 IR 13) has YEN SIGN at 05/12 and
  OVERLINE at 07/14.  PS3.5 6.1.2.3: the value separator is the single byte 05/12
  whatever its glyph, so in multi-valued VRs 05/12 decodes as ``\\`` (delimiter);
  in LT, ST and UT (no delimiter) it decodes as U+00A5.  07/14 is always U+203E.
  (DCMTK 3.6.7 turns 05/12 into U+00A5 in every VR, merging values; pydicom keeps
  ``\\`` and ``~`` in every VR.)
"""
from __future__ import annotations

import codecs
import re
from typing import Sequence

from .._diag import warn

__all__ = ["decode", "encode", "python_codec", "to_utf8", "CharsetError"]

class CharsetError(ValueError):
    """Raised by :func:`encode` when a character cannot be encoded."""


# ---------------------------------------------------------------------------
# JIS X 0201 (ISO_IR 13) as a Python codec: 0x00-0x7F ASCII (Romaji treated as
# ASCII, see module docstring), 0xA1-0xDF half-width katakana U+FF61-U+FF9F.
# ---------------------------------------------------------------------------
_JISX0201_DECODE = "".join(
    [chr(i) for i in range(0x80)]
    + ["\ufffe"] * 0x21
    + [chr(0xFF61 + i) for i in range(0xDF - 0xA1 + 1)]
    + ["\ufffe"] * (0x100 - 0xE0)
)
_JISX0201_ENCODE = codecs.charmap_build(_JISX0201_DECODE)
_JISX0201_NAME = "dcmpy_jis_x0201"


def _jisx0201_encode(text, errors="strict"):
    return codecs.charmap_encode(text, errors, _JISX0201_ENCODE)


def _jisx0201_decode(data, errors="strict"):
    return codecs.charmap_decode(data, errors, _JISX0201_DECODE)


def _search_codec(name):
    if name == _JISX0201_NAME:
        return codecs.CodecInfo(_jisx0201_encode, _jisx0201_decode, name=_JISX0201_NAME)
    return None


codecs.register(_search_codec)

# ---------------------------------------------------------------------------
# Defined terms
# ---------------------------------------------------------------------------
# Single-byte and Unicode/GB terms without code extensions: term -> codec used here.
_SIMPLE_CODECS = {
    "ISO_IR 6": "ascii",
    "ISO_IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO_IR 109": "iso8859_3",
    "ISO_IR 110": "iso8859_4",
    "ISO_IR 144": "iso8859_5",
    "ISO_IR 127": "iso8859_6",
    "ISO_IR 126": "iso8859_7",
    "ISO_IR 138": "iso8859_8",
    "ISO_IR 148": "iso8859_9",
    "ISO_IR 203": "iso8859_15",
    "ISO_IR 13": _JISX0201_NAME,
    "ISO_IR 166": "tis_620",
    "ISO_IR 192": "utf_8",
    "GB18030": "gb18030",
    "GBK": "gbk",
}
# Terms that forbid code extensions (PS3.3 C.12.1.1.2: single value only).
_NO_EXTENSION = frozenset(("ISO_IR 192", "GB18030", "GBK"))

# What python_codec reports: a standard Python codec for each defined term.
_PYTHON_CODECS = dict(_SIMPLE_CODECS)
_PYTHON_CODECS["ISO_IR 13"] = "shift_jis"
_PYTHON_CODECS[""] = "ascii"


class _GSet:
    """A graphic character set that can be designated to G0 or G1."""

    __slots__ = ("name", "esc", "g", "multibyte", "codec", "_kind", "_cache")

    def __init__(self, name, esc, g, multibyte, codec, kind):
        self.name = name
        self.esc = esc          # escape sequence designating it
        self.g = g              # 0 or 1
        self.multibyte = multibyte
        self.codec = codec      # Python codec: GL as ASCII, GR as this set
        self._kind = kind
        self._cache = {}

    def __repr__(self):
        return f"<GSet {self.name} G{self.g}>"

    def enc(self, ch):
        """Bytes of ``ch`` in this set (GL bytes for G0, GR bytes for G1), or None."""
        try:
            return self._cache[ch]
        except KeyError:
            pass
        b = self._enc(ch)
        if len(self._cache) < 4096:
            self._cache[ch] = b
        return b

    def _enc(self, ch):
        o = ord(ch)
        kind = self._kind
        if kind == "ascii":
            return bytes((o,)) if 0x20 <= o < 0x7F else None
        if kind == "romaji":
            if o == 0xA5:
                return b"\\"
            if o == 0x203E:
                return b"~"
            return bytes((o,)) if 0x20 <= o < 0x7F and o != 0x5C and o != 0x7E else None
        if kind == "kana":
            return bytes((o - 0xFF61 + 0xA1,)) if 0xFF61 <= o <= 0xFF9F else None
        try:
            b = ch.encode(self.codec)
        except UnicodeError:
            return None
        if kind == "sb96":
            return b if len(b) == 1 and b[0] >= 0xA0 else None
        if kind == "jis0208":
            if len(b) == 2 and 0xA1 <= b[0] <= 0xFE and 0xA1 <= b[1] <= 0xFE:
                return bytes((b[0] & 0x7F, b[1] & 0x7F))
            return None
        if kind == "jis0212":
            if len(b) == 3 and b[0] == 0x8F:
                return bytes((b[1] & 0x7F, b[2] & 0x7F))
            return None
        # "dbcs94" in G1 (KS X 1001, GB 2312): EUC form
        if len(b) == 2 and b[0] >= 0xA1 and b[1] >= 0xA1:
            return b
        return None


_ESC = b"\x1b"
_ASCII = _GSet("ISO-IR 6", b"\x1b(B", 0, False, "ascii", "ascii")
_ROMAJI = _GSet("ISO-IR 14", b"\x1b(J", 0, False, "ascii", "romaji")
_KATAKANA = _GSet("ISO-IR 13", b"\x1b)I", 1, False, _JISX0201_NAME, "kana")
_JIS0208 = _GSet("ISO-IR 87", b"\x1b$B", 0, True, "euc_jp", "jis0208")
_JIS0212 = _GSet("ISO-IR 159", b"\x1b$(D", 0, True, "euc_jp", "jis0212")
_KSX1001 = _GSet("ISO-IR 149", b"\x1b$)C", 1, False, "euc_kr", "dbcs94")
_GB2312 = _GSet("ISO-IR 58", b"\x1b$)A", 1, False, "gb2312", "dbcs94")


def _sb96(ir, final, codec):
    return _GSet(f"ISO-IR {ir}", b"\x1b-" + final, 1, False, codec, "sb96")


# ISO 2022 defined term -> the sets it designates (G0 first).
_ISO2022_TERMS = {
    "ISO 2022 IR 6": (_ASCII,),
    "ISO 2022 IR 100": (_ASCII, _sb96(100, b"A", "latin_1")),
    "ISO 2022 IR 101": (_ASCII, _sb96(101, b"B", "iso8859_2")),
    "ISO 2022 IR 109": (_ASCII, _sb96(109, b"C", "iso8859_3")),
    "ISO 2022 IR 110": (_ASCII, _sb96(110, b"D", "iso8859_4")),
    "ISO 2022 IR 144": (_ASCII, _sb96(144, b"L", "iso8859_5")),
    "ISO 2022 IR 127": (_ASCII, _sb96(127, b"G", "iso8859_6")),
    "ISO 2022 IR 126": (_ASCII, _sb96(126, b"F", "iso8859_7")),
    "ISO 2022 IR 138": (_ASCII, _sb96(138, b"H", "iso8859_8")),
    "ISO 2022 IR 148": (_ASCII, _sb96(148, b"M", "iso8859_9")),
    "ISO 2022 IR 203": (_ASCII, _sb96(203, b"b", "iso8859_15")),
    "ISO 2022 IR 166": (_ASCII, _sb96(166, b"T", "tis_620")),
    "ISO 2022 IR 13": (_ROMAJI, _KATAKANA),
    "ISO 2022 IR 87": (_JIS0208,),
    "ISO 2022 IR 159": (_JIS0212,),
    "ISO 2022 IR 149": (_KSX1001,),
    "ISO 2022 IR 58": (_GB2312,),
}
for _term, _sets in _ISO2022_TERMS.items():
    _PYTHON_CODECS[_term] = _sets[-1].codec
_PYTHON_CODECS.update({
    "ISO 2022 IR 6": "ascii",
    "ISO 2022 IR 13": "shift_jis",
    "ISO 2022 IR 87": "iso2022_jp",
    "ISO 2022 IR 159": "iso2022_jp_2",
})

# Escape sequence -> set, for decoding.  All known sets are recognised, declared
# or not (an undeclared one is used anyway, with a warning).
_ESCAPES = {}
for _sets in _ISO2022_TERMS.values():
    for _s in _sets:
        _ESCAPES[_s.esc] = _s
_ESCAPES[b"\x1b$@"] = _JIS0208    # JIS C 6226-1978, in practice the same table
_ESCAPES[b"\x1b$(B"] = _JIS0208   # long form of ESC $ B

_KNOWN_TERMS = frozenset(_SIMPLE_CODECS) | frozenset(_ISO2022_TERMS)
_ALIAS_RE = re.compile(r"^ISO ?(2022)? ?IR ?(\d+)$")


def _canonical(term):
    """(canonical term or None, warning or None) for one value of (0008,0005)."""
    if term in _KNOWN_TERMS:
        return term, None
    t = " ".join(term.replace("-", " ").replace("_", " ").upper().split())
    cand = None
    m = _ALIAS_RE.match(t)
    if m:
        cand = ("ISO 2022 IR " if m.group(1) else "ISO_IR ") + m.group(2)
    elif t in ("UTF 8", "UTF8"):
        cand = "ISO_IR 192"
    elif t in ("GB18030", "GB 18030"):
        cand = "GB18030"
    elif t == "GBK":
        cand = "GBK"
    if cand in _KNOWN_TERMS:
        return cand, f"Specific Character Set {term!r} is not a defined term, using {cand!r}"
    return None, f"unknown Specific Character Set {term!r}, using the default repertoire (ISO_IR 6)"


# ---------------------------------------------------------------------------
# Plans: everything derived from one value of (0008,0005), cached
# ---------------------------------------------------------------------------
class _Plan:
    __slots__ = ("terms", "codec", "default", "g0", "g1", "sets", "declared",
                 "warnings", "iso2022")

    def __init__(self):
        self.terms = ()
        self.codec = None        # simple plans: the codec; None for ISO 2022
        self.default = False     # default repertoire: ascii, latin-1 fallback
        self.iso2022 = False
        self.g0 = _ASCII
        self.g1 = None
        self.sets = ()
        self.declared = frozenset()
        self.warnings = []


_PLANS: dict = {}
_MAX_PLANS = 512


def _make_plan(charsets):
    plan = _Plan()
    if charsets is None:
        values = []
    elif isinstance(charsets, (str, bytes)):
        if isinstance(charsets, bytes):
            charsets = charsets.decode("latin_1")
        values = charsets.split("\\")
    else:
        values = [v.decode("latin_1") if isinstance(v, (bytes, bytearray)) else str(v)
                  for v in charsets]
    values = [v.strip(" \x00") for v in values]
    warn = plan.warnings
    plan.terms = tuple(values)

    canon = []
    for i, v in enumerate(values):
        if not v:
            canon.append("" if i == 0 else None)
            if i:
                warn.append(f"empty value {i + 1} of Specific Character Set ignored")
            continue
        c, w = _canonical(v)
        if w:
            warn.append(w)
        canon.append(c)

    if not any(canon):
        plan.default = True
        plan.codec = "ascii"
        return plan

    if len(canon) == 1:
        term = canon[0]
        if term == "ISO_IR 13":
            # JIS X 0201 without code extensions: Romaji in G0 and katakana in G1;
            # decoded by the ISO 2022 machinery (Romaji needs VR-dependent handling).
            plan.g0, plan.g1 = _ROMAJI, _KATAKANA
            plan.sets = (_ROMAJI, _KATAKANA)
            plan.declared = frozenset(plan.sets)
            return plan
        if term in _SIMPLE_CODECS:
            plan.codec = _SIMPLE_CODECS[term]
            plan.default = term == "ISO_IR 6"
            return plan

    # Several values (or one ISO 2022 term).
    for term in canon:
        if term in _NO_EXTENSION:
            joined = "\\".join(values)
            warn.append(f"{term} cannot be used with code extensions "
                        f"(Specific Character Set {joined!r}); using {term} alone")
            plan.codec = _SIMPLE_CODECS[term]
            return plan

    terms = []
    for i, term in enumerate(canon):
        if term is None:
            if i == 0:
                terms.append("ISO 2022 IR 6")
            continue
        if term == "":
            terms.append("ISO 2022 IR 6")
            continue
        if term.startswith("ISO_IR "):
            fixed = "ISO 2022 IR " + term[7:]
            warn.append(f"{term!r} used with code extensions, read as {fixed!r}")
            term = fixed
        terms.append(term)

    plan.iso2022 = True
    first = _ISO2022_TERMS[terms[0]]
    g0 = [s for s in first if s.g == 0 and not s.multibyte]
    g1 = [s for s in first if s.g == 1]
    if any(s.multibyte for s in first):
        warn.append(f"{terms[0]!r} cannot be the initial character set (value 1), "
                    "using ISO-IR 6 in G0")
    plan.g0 = g0[0] if g0 else _ASCII
    plan.g1 = g1[0] if g1 else None
    sets = []
    for term in terms:
        for s in _ISO2022_TERMS[term]:
            if s not in sets:
                sets.append(s)
    if plan.g0 not in sets:
        sets.insert(0, plan.g0)
    plan.sets = tuple(sets)
    plan.declared = frozenset(sets)
    return plan


def _plan_for(charsets):
    """The cached plan for one value of (0008,0005) (list, tuple, str or None)."""
    cls = charsets.__class__
    if cls is list:
        key = tuple(charsets)
    elif cls is tuple or cls is str or cls is bytes or charsets is None:
        key = charsets
    else:  # MultiValue or any other iterable
        try:
            key = tuple(charsets)
        except TypeError:
            key = (str(charsets),)
    try:
        return _PLANS[key]
    except KeyError:
        pass
    except TypeError:  # unhashable members
        key = tuple(str(v) for v in key)
        plan = _PLANS.get(key)
        if plan is not None:
            return plan
    plan = _make_plan(key)
    for w in plan.warnings:
        warn(__name__, w)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.clear()
    _PLANS[key] = plan
    return plan


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
_TEXT_VRS = frozenset(("LT", "ST", "UT"))
# Delimiters that make value 1's sets active again, while G0 is single-byte.
_DELIM_PN = re.compile(rb"[\x00-\x1a\x1c-\x1f\\^=]")
_DELIM_MULTI = re.compile(rb"[\x00-\x1a\x1c-\x1f\\]")
_DELIM_TEXT = re.compile(rb"[\x00-\x1a\x1c-\x1f]")
# While a two-byte set is in G0 only control characters are recognised.
_DELIM_CTRL = _DELIM_TEXT
_GL_SPLIT = re.compile(rb"[\x21-\x7e]+|[^\x21-\x7e]+")
_TO_GR = bytes((b | 0x80) for b in range(0x100))


def _delims_for(vr):
    if vr == "PN":
        return _DELIM_PN
    if vr in _TEXT_VRS:
        return _DELIM_TEXT
    return _DELIM_MULTI


_ROMAJI_TEXT = {0x5C: "\u00a5", 0x7E: "\u203e"}
_ROMAJI_MULTI = {0x7E: "\u203e"}


def _decode_single(data, g0, g1, vr):
    """Decode bytes while a single-byte set (ASCII or Romaji) is in G0 and g1 in G1."""
    text = data.decode(g1.codec if g1 is not None else "ascii", "replace")
    if g0 is _ROMAJI and (b"\\" in data or b"~" in data):
        # only GL bytes give ASCII characters, so the mapping is safe on the text
        text = text.translate(_ROMAJI_TEXT if vr in _TEXT_VRS else _ROMAJI_MULTI)
    return text


def _decode_gl_multibyte(data, g0):
    odd = len(data) & 1
    body = data[:len(data) - odd].translate(_TO_GR)
    if g0 is _JIS0212:
        body = b"".join(b"\x8f" + body[i:i + 2] for i in range(0, len(body), 2))
    text = body.decode("euc_jp", "replace")
    return text + "\ufffd" if odd else text


def _decode_run(data, g0, g1, vr):
    if not data:
        return ""
    if not g0.multibyte:
        return _decode_single(data, g0, g1, vr)
    parts = []
    for m in _GL_SPLIT.finditer(data):
        chunk = m.group()
        if 0x21 <= chunk[0] <= 0x7E:
            parts.append(_decode_gl_multibyte(chunk, g0))
        else:
            parts.append(_decode_single(chunk, _ASCII, g1, vr))
    return "".join(parts)


def _decode_2022(raw, plan, vr):
    out = []
    append = out.append
    init0, init1 = plan.g0, plan.g1
    g0, g1 = init0, init1
    delims = _delims_for(vr)
    declared = plan.declared
    n = len(raw)
    pos = 0
    while pos < n:
        esc = raw.find(_ESC, pos)
        end = n if esc < 0 else esc
        start = pos
        while start < end:
            if g0 is init0 and g1 is init1:
                append(_decode_run(raw[start:end], g0, g1, vr))
                break
            m = (_DELIM_CTRL if g0.multibyte else delims).search(raw, start, end)
            if m is None:
                append(_decode_run(raw[start:end], g0, g1, vr))
                break
            k = m.start()
            append(_decode_run(raw[start:k], g0, g1, vr))
            append(chr(raw[k]))
            g0, g1 = init0, init1
            start = k + 1
        if esc < 0:
            break
        # Escape sequence: ESC, intermediate bytes 02/00-02/15, final byte 03/00-07/14.
        j = esc + 1
        while j < n and 0x20 <= raw[j] <= 0x2F:
            j += 1
        if j >= n or not 0x30 <= raw[j] <= 0x7E:
            warn(__name__, "truncated or invalid ISO 2022 escape sequence %r at offset %d",
                           raw[esc:j + 1], esc)
            append("\ufffd")
            pos = j
            continue
        seq = raw[esc:j + 1]
        s = _ESCAPES.get(seq)
        if s is None:
            warn(__name__, "unknown ISO 2022 escape sequence %r at offset %d", seq, esc)
            append("\ufffd")
        else:
            if s not in declared:
                warn(__name__, "escape sequence %r designates %s, which Specific Character "
                               "Set %r does not list; using it anyway", seq, s.name,
                               "\\".join(plan.terms))
            if s.g == 0:
                g0 = s
            else:
                g1 = s
        pos = j + 1
    return "".join(out)


def decode(raw: bytes, charsets: Sequence[str], vr: str) -> str:
    """Decode a text value (PN, LO, SH, LT, ST, UT, UC) stored as ``raw``.

    Trailing padding (SPACE, NUL) is dropped.  Never raises on bad bytes.
    """
    plan = _plan_for(charsets)
    if raw.__class__ is not bytes:
        raw = bytes(raw)
    raw = raw.rstrip(b" \x00")
    codec = plan.codec
    if codec is not None:
        try:
            return raw.decode(codec)
        except UnicodeDecodeError:
            pass
        if plan.default:
            warn(__name__, "non-ASCII bytes in a value without Specific Character Set "
                           "(or with an unknown one): read as ISO 8859-1")
            return raw.decode("latin_1")
        warn(__name__, "bytes not valid in %s replaced by U+FFFD", "\\".join(plan.terms))
        return raw.decode(codec, "replace")
    if _ESC not in raw:
        return _decode_single(raw, plan.g0, plan.g1, vr)
    return _decode_2022(raw, plan, vr)


def to_utf8(raw: bytes, charsets: Sequence[str], vr: str) -> bytes:
    """The value re-encoded as UTF-8 (for ``+U8``), trailing padding dropped."""
    plan = _plan_for(charsets)
    if raw.__class__ is not bytes:
        raw = bytes(raw)
    raw = raw.rstrip(b" \x00")
    if plan.codec == "utf_8":
        try:
            raw.decode("utf_8")
            return raw
        except UnicodeDecodeError:
            pass
    elif raw.isascii() and (plan.codec is not None
                            or (_ESC not in raw and plan.g0 is _ASCII)):
        return raw
    return decode(raw, charsets, vr).encode("utf_8")


# ---------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------
def _cannot(ch, index, plan):
    terms = "\\".join(plan.terms) or "(default repertoire)"
    return CharsetError(f"character {ch!r} (U+{ord(ch):04X}) at position {index} cannot be "
                        f"encoded with Specific Character Set {terms!r}")


def _encode_2022(text, plan, vr):
    init0, init1 = plan.g0, plan.g1
    g0, g1 = init0, init1
    if vr == "PN":
        delims = "\\^="
    elif vr in _TEXT_VRS:
        delims = ""
    else:
        delims = "\\"
    sets = plan.sets
    text_vr = vr in _TEXT_VRS
    out = bytearray()
    for i, ch in enumerate(text):
        o = ord(ch)
        if o < 0x20 or o == 0x7F or ch in delims:
            if o == 0x1B:
                raise _cannot(ch, i, plan)
            if g0 is not init0:
                out += init0.esc
                g0 = init0
            if g1 is not init1:
                if init1 is not None:
                    out += init1.esc
                g1 = init1
            out.append(o)
            continue
        if o == 0x20:          # SPACE is fixed, whatever is in G0
            out.append(0x20)
            continue
        yen = o == 0xA5 and not text_vr   # Romaji's 05/12 would be a delimiter here
        b = None if yen and g0 is _ROMAJI else g0.enc(ch)
        if b is None and g1 is not None:
            b = g1.enc(ch)
        if b is None:
            for s in sets:
                b = None if yen and s is _ROMAJI else s.enc(ch)
                if b is not None:
                    out += s.esc
                    if s.g == 0:
                        g0 = s
                    else:
                        g1 = s
                    break
            else:
                raise _cannot(ch, i, plan)
        out += b
    if g0 is not init0:
        out += init0.esc
    if g1 is not init1 and init1 is not None:
        out += init1.esc
    return bytes(out)


def encode(text: str, charsets: Sequence[str], vr: str) -> bytes:
    """Encode ``text`` for (0008,0005) = ``charsets``; no padding is added.

    With ISO 2022 code extensions, a character that the active G0/G1 sets cannot
    represent switches to the first listed set that can; value 1's sets are made
    active again before each delimiter and at the end of the value.  Raises
    :class:`CharsetError` (a ValueError) naming a character no listed set can encode.
    """
    plan = _plan_for(charsets)
    codec = plan.codec
    if codec is not None:
        try:
            return text.encode(codec)
        except UnicodeEncodeError as e:
            raise _cannot(e.object[e.start], e.start, plan) from None
    if plan.g0 is _ASCII and text.isascii() and "\x1b" not in text:
        return text.encode("ascii")
    return _encode_2022(text, plan, vr)


def python_codec(term: str) -> str | None:
    """Python codec name for one defined term (``'ISO_IR 100'`` -> ``'latin_1'``).

    ISO 2022 terms give the codec of the set they designate; ``'ISO_IR 13'`` gives
    ``'shift_jis'`` (which decodes JIS X 0201 alike).  None if the term is unknown.
    """
    if not isinstance(term, str):
        return None
    t = term.strip(" \x00")
    c = _PYTHON_CODECS.get(t)
    if c is None and t:
        canon, _ = _canonical(t)
        if canon is not None:
            c = _PYTHON_CODECS.get(canon)
    return c
