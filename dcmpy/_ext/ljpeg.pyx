# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""JPEG Lossless (ITU-T T.81 Annex H: Process 14, Huffman coding), one frame at a time, both
directions; the entropy-coded loops run without the GIL.

Decoding takes any predictor (1-7), point transform, precision 2 to 16, up to 4 components
in interleaved or non-interleaved scans, restart intervals and byte stuffing; the samples come
out unsigned, reconstructed modulo 2^16 (H.2.1) and interleaved by pixel. Every read is checked
against the end of the codestream: bits past the end of a segment read as zeros and are
reported as a truncation at the end of the row that used them.

Encoding writes one interleaved scan with the chosen predictor and point transform, a Huffman
table computed for the frame (Annex K.2; one table for all components, as DCMTK and GDCM
write, which some decoders need), and optional restart intervals of whole rows: without
restarts, the codestream is the one DCMTK's ``dcmcjpeg`` writes, byte for byte, padded to an
even length with a fill byte before EOI as DCMTK does.

Two decoder workarounds reproduce what DCMTK's ``dcmdjpeg`` does for known broken encoders:
``pred6`` (``+w6``) computes predictors 4-7 from the neighbours taken as signed 16-bit numbers,
as an old DCMTK encoder did by mistake; ``cornell`` (``+wc``) reads the 16 extra bits that a
Cornell encoder wrote after the difference category 16 (which has none, H.1.2.2), and takes a
17-bit code that fits no table entry (that encoder's overflowed table) as category 16.
"""
import numpy as np

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memset


cdef enum:
    LOOK = 9                    # bits resolved by one table look-up
    MAX_COMPONENTS = 4
    MAX_TABLES = 4
    # scan decoder outcomes
    OK = 0
    BAD_CODE = 1                # a bit pattern that is no code of the table
    BAD_CATEGORY = 2            # a decoded difference category above 16
    TRUNCATED = 3               # bits past the end of the entropy-coded segment were used
    BAD_RESTART = 4             # the expected RSTn marker is not there


class LJPEGError(ValueError):
    """A codestream that is not valid JPEG Lossless, or a frame that cannot be encoded."""


# bit length of 0..255 (the difference category of a magnitude below 256)
cdef uint8_t BIT_LENGTH[256]
cdef int _i
for _i in range(256):
    BIT_LENGTH[_i] = _i.bit_length()

_SOF_NAMES = {0xC0: "baseline", 0xC1: "extended sequential", 0xC2: "progressive",
              0xC5: "differential sequential", 0xC6: "differential progressive",
              0xC7: "differential lossless", 0xC9: "extended sequential, arithmetic",
              0xCA: "progressive, arithmetic", 0xCB: "lossless, arithmetic",
              0xCD: "differential sequential, arithmetic",
              0xCE: "differential progressive, arithmetic",
              0xCF: "differential lossless, arithmetic"}


# -- Huffman tables (Annex C; F.2.2.3) -------------------------------------------------------
cdef struct Table:
    int32_t maxcode[18]         # largest code of each length, -1 when none; [17] a sentinel
    int32_t offset[17]          # index in values of a code of each length, minus the code
    int32_t count               # number of codes
    uint8_t values[256]
    uint8_t look_len[1 << LOOK]     # length of the code a LOOK-bit prefix starts, 0: longer
    uint8_t look_sym[1 << LOOK]
    bint defined


cdef bint _build_table(Table *t, const uint8_t *counts, const uint8_t *values,
                       int n) noexcept nogil:
    """Canonical codes from the counts of each length (C.2); False when they over-subscribe
    the code space."""
    cdef int32_t code = 0
    cdef int32_t first[17]
    cdef int length, k = 0, i, prefix, fill
    memset(t.look_len, 0, sizeof(t.look_len))
    memset(t.values, 0, sizeof(t.values))
    for length in range(1, 17):
        first[length] = code
        if counts[length - 1]:
            t.offset[length] = k - code
            code += counts[length - 1]
            k += counts[length - 1]
            t.maxcode[length] = code - 1
        else:
            t.maxcode[length] = -1
        if code > (1 << length):
            return False
        code <<= 1
    t.maxcode[17] = 0x7FFFFFFF
    for i in range(n):
        t.values[i] = values[i]
    t.count = n
    k = 0
    for length in range(1, LOOK + 1):
        for i in range(counts[length - 1]):
            prefix = (first[length] + i) << (LOOK - length)
            for fill in range(1 << (LOOK - length)):
                t.look_len[prefix + fill] = length
                t.look_sym[prefix + fill] = values[k]
            k += 1
    t.defined = True
    return True


# -- reading bits (F.2.2.5, with B.1.1.5 byte stuffing) ---------------------------------------
cdef struct Reader:
    const uint8_t *data
    Py_ssize_t pos              # next byte to load
    Py_ssize_t end
    uint64_t buf                # the low `nbits` bits are unread
    int nbits
    Py_ssize_t phantom          # zero bits appended after the segment ended (the last ones)
    Py_ssize_t marker           # offset of the marker that ended the segment, or -1


cdef inline void _fill(Reader *r) noexcept nogil:
    """Load bytes until more than 56 bits are unread; past a marker or the end, zeros."""
    cdef uint8_t b
    cdef Py_ssize_t q
    while r.nbits <= 56:
        if r.marker < 0:
            if r.pos < r.end:
                b = r.data[r.pos]
                if b != 0xFF:
                    r.pos += 1
                    r.buf = (r.buf << 8) | b
                    r.nbits += 8
                    continue
                q = r.pos + 1
                while q < r.end and r.data[q] == 0xFF:     # fill bytes (B.1.1.2)
                    q += 1
                if q < r.end and r.data[q] == 0:
                    r.pos = q + 1
                    r.buf = (r.buf << 8) | 0xFF
                    r.nbits += 8
                    continue
            r.marker = r.pos
        r.buf <<= 8
        r.nbits += 8
        r.phantom += 8


cdef inline bint _overrun(const Reader *r) noexcept nogil:
    return r.phantom > r.nbits


cdef Py_ssize_t _next_marker(const uint8_t *data, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
    """Offset of the next marker (its first FF) at or after ``pos``, skipping stuffed bytes
    and stray data; ``end`` when there is none."""
    cdef Py_ssize_t q
    while pos < end:
        if data[pos] == 0xFF:
            q = pos + 1
            while q < end and data[q] == 0xFF:
                q += 1
            if q >= end:
                return end
            if data[q] != 0:
                return pos
            pos = q + 1
        else:
            pos += 1
    return end


cdef int _decode_slow(Reader *r, const Table *t, bint cornell) noexcept nogil:
    """A code longer than LOOK bits (F.16); -1 for a pattern that is no code."""
    cdef int length
    cdef int32_t code, index
    for length in range(LOOK + 1, 17):
        code = <int32_t>((r.buf >> (r.nbits - length)) & ((1 << length) - 1))
        if code <= t.maxcode[length]:
            index = code + t.offset[length]
            if index < 0 or index >= t.count:
                return -1
            r.nbits -= length
            return t.values[index]
    if cornell:
        r.nbits -= 17
        return 17
    return -1


cdef int _decode_diffs(Reader *r, Table **tables, int ns, int32_t *diff, Py_ssize_t n,
                       bint cornell, int *detail) noexcept nogil:
    """Decode ``n`` sample differences (H.2.2) cycling through the scan's ``ns`` tables."""
    cdef Py_ssize_t i
    cdef int k = 0, s, v
    cdef unsigned int look
    cdef Table *t
    for i in range(n):
        t = tables[k]
        k += 1
        if k == ns:
            k = 0
        if r.nbits < 33:
            _fill(r)
        look = <unsigned int>(r.buf >> (r.nbits - LOOK)) & ((1 << LOOK) - 1)
        s = t.look_len[look]
        if s:
            r.nbits -= s
            s = t.look_sym[look]
        else:
            s = _decode_slow(r, t, cornell)
            if s < 0:
                return BAD_CODE
        if s == 0:
            diff[i] = 0
        elif s < 16:
            v = <int>(r.buf >> (r.nbits - s)) & ((1 << s) - 1)
            r.nbits -= s
            diff[i] = v if v >> (s - 1) else v - ((1 << s) - 1)
        elif s == 16 and not cornell:
            diff[i] = 32768
        elif s <= 17 and cornell:
            v = <int>(r.buf >> (r.nbits - 16)) & 0xFFFF
            if v == 0x8000 or v == 0x7FFF:     # the Cornell encoder's extra bits
                r.nbits -= 16
            diff[i] = 32768
        else:
            detail[0] = s
            return BAD_CATEGORY
    return OK


# -- prediction (H.1.2.1, Table H.1) ---------------------------------------------------------
cdef inline int _predict(int sel, int ra, int rb, int rc) noexcept nogil:
    if sel == 1:
        return ra
    if sel == 2:
        return rb
    if sel == 3:
        return rc
    if sel == 4:
        return ra + rb - rc
    if sel == 5:
        return ra + ((rb - rc) >> 1)
    if sel == 6:
        return rb + ((ra - rc) >> 1)
    return (ra + rb) >> 1


cdef void _undifference(uint16_t *cur, const uint16_t *prev, const int32_t *diff,
                        Py_ssize_t cols, int stride, int dstride, int sel, int initial,
                        bint signed16) noexcept nogil:
    """Reconstruct one row of one component. ``sel`` 0 is the first row of a scan or restart
    interval (``initial``, then the left neighbour); the first column uses the one above;
    ``signed16`` takes the neighbours as int16 (the +w6 workaround)."""
    cdef Py_ssize_t x
    cdef int ra, rb, rc
    if sel == 0:
        ra = (diff[0] + initial) & 0xFFFF
        cur[0] = <uint16_t>ra
        for x in range(1, cols):
            ra = (diff[x * dstride] + ra) & 0xFFFF
            cur[x * stride] = <uint16_t>ra
        return
    rb = prev[0]
    ra = (diff[0] + rb) & 0xFFFF
    cur[0] = <uint16_t>ra
    if sel == 1:
        for x in range(1, cols):
            ra = (diff[x * dstride] + ra) & 0xFFFF
            cur[x * stride] = <uint16_t>ra
    elif sel == 2:
        for x in range(1, cols):
            cur[x * stride] = <uint16_t>(diff[x * dstride] + prev[x * stride])
    elif signed16:
        for x in range(1, cols):
            rc = rb
            rb = prev[x * stride]
            ra = (diff[x * dstride] + _predict(sel, <int16_t>ra, <int16_t>rb, <int16_t>rc)) & 0xFFFF
            cur[x * stride] = <uint16_t>ra
    else:
        for x in range(1, cols):
            rc = rb
            rb = prev[x * stride]
            ra = (diff[x * dstride] + _predict(sel, ra, rb, rc)) & 0xFFFF
            cur[x * stride] = <uint16_t>ra


cdef struct Scan:
    int ns                      # components in the scan
    int comp[MAX_COMPONENTS]    # their indices in the frame
    Table *table[MAX_COMPONENTS]
    int sel                     # predictor (Ss)
    int pt                      # point transform (Al)
    int initial                 # prediction of the first sample: 2^(P-Pt-1)
    Py_ssize_t rows, cols
    int nc                      # components in the frame (the output's pixel stride)
    Py_ssize_t restart_rows     # rows per restart interval, 0: none
    bint signed16, cornell


cdef int _restart(Reader *r, int expected, Py_ssize_t *where, int *found) noexcept nogil:
    """Skip to the marker that ends a restart interval: it must be RST``expected``."""
    cdef Py_ssize_t p = r.marker if r.marker >= 0 else _next_marker(r.data, r.pos, r.end)
    cdef Py_ssize_t q = p
    while q < r.end and r.data[q] == 0xFF:
        q += 1
    where[0] = p
    if q >= r.end or r.data[q] != 0xD0 + expected:
        found[0] = r.data[q] if q < r.end else -1
        return BAD_RESTART
    r.pos = q + 1
    r.buf = 0
    r.nbits = 0
    r.phantom = 0
    r.marker = -1
    return OK


cdef int _decode_scan(Reader *r, Scan *sc, uint16_t *out, int32_t *diff,
                      Py_ssize_t *where, int *detail) noexcept nogil:
    """Decode the rows of one scan into ``out`` (rows x cols x nc); on failure ``where``
    is the row (or marker offset) and ``detail`` the category or marker found."""
    cdef Py_ssize_t row, line = sc.cols * sc.nc, interval = 0
    cdef int k, status, sel
    cdef const uint16_t *prev
    for row in range(sc.rows):
        sel = sc.sel
        if row == 0:
            sel = 0
        elif sc.restart_rows and row % sc.restart_rows == 0:
            if _overrun(r):
                where[0] = row - 1
                return TRUNCATED
            status = _restart(r, interval & 7, where, detail)
            if status:
                return status
            interval += 1
            sel = 0
        status = _decode_diffs(r, sc.table, sc.ns, diff, sc.cols * sc.ns, sc.cornell, detail)
        if status == OK and _overrun(r):
            status = TRUNCATED
        if status:
            where[0] = row
            return status
        prev = out + (row - 1) * line if row else NULL
        for k in range(sc.ns):
            _undifference(out + row * line + sc.comp[k],
                          prev + sc.comp[k] if prev != NULL else NULL, diff + k, sc.cols,
                          sc.nc, sc.ns, sel, sc.initial, sc.signed16)
    return OK


cdef void _shift_left(uint16_t *out, Py_ssize_t count, int stride, int pt) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(count):
        out[i * stride] = <uint16_t>(out[i * stride] << pt)


# -- the marker level (Annex B) --------------------------------------------------------------
cdef class _Decoder:
    """One codestream: its markers are parsed in order, each scan decoded as it comes."""
    cdef const uint8_t[::1] src
    cdef Py_ssize_t n
    cdef Table tables[MAX_TABLES]
    cdef int restart_interval
    cdef int precision, nc, scans
    cdef Py_ssize_t rows, cols
    cdef int ids[MAX_COMPONENTS]
    cdef int h[MAX_COMPONENTS]
    cdef int v[MAX_COMPONENTS]
    cdef bint decoded[MAX_COMPONENTS]
    cdef bint has_frame
    cdef object expected, out
    cdef bint signed16, cornell

    def __init__(self, const uint8_t[::1] src, expected=None, bint signed16=False,
                 bint cornell=False):
        self.src = src
        self.n = src.shape[0]
        self.expected = expected
        self.signed16 = signed16
        self.cornell = cornell
        memset(self.tables, 0, sizeof(self.tables))
        memset(self.decoded, 0, sizeof(self.decoded))

    cdef int _u16(self, Py_ssize_t pos):
        return (self.src[pos] << 8) | self.src[pos + 1]

    def run(self, bint header_only=False):
        """Walk the markers: to the frame header only, or through every scan to EOI."""
        cdef Py_ssize_t pos = 2, length, end
        cdef int code
        if self.n < 2 or self.src[0] != 0xFF or self.src[1] != 0xD8:
            raise LJPEGError("the codestream does not start with an SOI marker (FFD8)")
        while True:
            pos = _next_marker(&self.src[0], pos, self.n)
            if pos >= self.n:
                if header_only or not self.has_frame or not self._complete():
                    raise LJPEGError(f"the codestream ends at offset {self.n} before "
                                     f"{self._missing()} (truncated?)")
                return          # every sample decoded: a missing EOI loses nothing
            while self.src[pos + 1] == 0xFF:
                pos += 1
            code = self.src[pos + 1]
            pos += 2
            if code == 0xD9:
                if not self.has_frame or not self._complete():
                    raise LJPEGError(f"EOI at offset {pos - 2} before {self._missing()}")
                return
            if 0xD0 <= code <= 0xD7 or code == 0x01:
                continue        # a stray RSTn or TEM has no segment
            if code == 0xD8:
                raise LJPEGError(f"a second SOI marker at offset {pos - 2}")
            if pos + 2 > self.n:
                raise LJPEGError(f"the codestream ends inside marker FF{code:02X} at offset "
                                 f"{pos - 2}")
            length = self._u16(pos)
            end = pos + length
            if length < 2 or end > self.n:
                raise LJPEGError(f"marker FF{code:02X} at offset {pos - 2} declares "
                                 f"{length} bytes, {self.n - pos} remain")
            if code == 0xC3:
                self._frame_header(pos + 2, end)
                if header_only:
                    return
            elif code in _SOF_NAMES:
                raise LJPEGError(f"the frame is {_SOF_NAMES[code]} JPEG (SOF{code - 0xC0}), "
                                 f"not lossless with Huffman coding (SOF3)")
            elif code == 0xC4:
                self._huffman_tables(pos + 2, end)
            elif code == 0xDD:
                if length != 4:
                    raise LJPEGError(f"DRI segment at offset {pos - 2} has length {length}, "
                                     f"not 4")
                self.restart_interval = self._u16(pos + 2)
            elif code == 0xDA:
                if not self.has_frame:
                    raise LJPEGError(f"SOS at offset {pos - 2} comes before the frame header "
                                     f"(SOF3)")
                end = self._scan(pos + 2, end)
            elif code == 0xDC:
                raise LJPEGError("a DNL marker (the number of lines after the first scan) is "
                                 "not supported")
            elif code == 0xCC:
                raise LJPEGError("arithmetic coding (DAC) is not supported")
            elif code in (0xDE, 0xDF):
                raise LJPEGError("hierarchical JPEG (DHP/EXP) is not supported")
            pos = end

    cdef bint _complete(self):
        cdef int c
        for c in range(self.nc):
            if not self.decoded[c]:
                return False
        return True

    def _missing(self) -> str:
        if not self.has_frame:
            return "the frame header (SOF3)"
        if self.scans == 0:
            return "the first scan (SOS)"
        missing = [self.ids[c] for c in range(self.nc) if not self.decoded[c]]
        return f"a scan of component {missing[0]}"

    cdef _frame_header(self, Py_ssize_t pos, Py_ssize_t end):
        cdef int c, k
        if self.has_frame:
            raise LJPEGError(f"a second frame header at offset {pos - 4}")
        if end - pos < 6:
            raise LJPEGError(f"the SOF3 segment at offset {pos - 4} is too short")
        self.precision = self.src[pos]
        self.rows = self._u16(pos + 1)
        self.cols = self._u16(pos + 3)
        self.nc = self.src[pos + 5]
        if not 2 <= self.precision <= 16:
            raise LJPEGError(f"sample precision {self.precision} is outside 2-16")
        if self.rows == 0:
            raise LJPEGError("the frame header declares 0 lines (a DNL marker is not "
                             "supported)")
        if self.cols == 0:
            raise LJPEGError("the frame header declares 0 samples per line")
        if not 1 <= self.nc <= MAX_COMPONENTS:
            raise LJPEGError(f"the frame has {self.nc} components (1 to 4 supported)")
        if end - pos != 6 + 3 * self.nc:
            raise LJPEGError(f"the SOF3 segment at offset {pos - 4} has length "
                             f"{end - pos + 2}, {self.nc} components need {8 + 3 * self.nc}")
        for c in range(self.nc):
            self.ids[c] = self.src[pos + 6 + 3 * c]
            self.h[c] = self.src[pos + 7 + 3 * c] >> 4
            self.v[c] = self.src[pos + 7 + 3 * c] & 15
            for k in range(c):
                if self.ids[k] == self.ids[c]:
                    raise LJPEGError(f"component identifier {self.ids[c]} appears twice")
            if not (1 <= self.h[c] <= 4 and 1 <= self.v[c] <= 4):
                raise LJPEGError(f"component {self.ids[c]} has sampling factors "
                                 f"{self.h[c]}x{self.v[c]} (1 to 4 allowed)")
            if self.h[c] != self.h[0] or self.v[c] != self.v[0]:
                raise LJPEGError("components with different sampling factors (subsampled "
                                 "lossless JPEG) are not supported")
        self.has_frame = True
        if self.expected is not None:
            self._check_expected()

    cdef _check_expected(self):
        rows, cols, comps, max_precision = self.expected
        if (self.rows, self.cols, self.nc) != (rows, cols, comps):
            raise LJPEGError(f"the frame header declares {self.rows} x {self.cols} x "
                             f"{self.nc}, the data set {rows} x {cols} x {comps}")
        if self.precision > max_precision:
            raise LJPEGError(f"sample precision {self.precision} does not fit BitsAllocated "
                             f"{max_precision}")
        samples = self.rows * self.cols * self.nc
        if samples > 8 * self.n:    # every sample takes at least one bit
            raise LJPEGError(f"a codestream of {self.n} bytes cannot hold {self.rows} x "
                             f"{self.cols} x {self.nc} samples")
        self.out = np.empty((self.rows, self.cols, self.nc), np.uint16)

    cdef _huffman_tables(self, Py_ssize_t pos, Py_ssize_t end):
        cdef int tc, th, total, i
        while pos < end:
            if end - pos < 17:
                raise LJPEGError(f"a Huffman table at offset {pos} is cut short by the end "
                                 f"of its DHT segment")
            tc, th = self.src[pos] >> 4, self.src[pos] & 15
            if tc > 1 or th >= MAX_TABLES:
                raise LJPEGError(f"DHT at offset {pos} defines table class {tc} number {th} "
                                 f"(class 0-1, number 0-3 allowed)")
            total = 0
            for i in range(16):
                total += self.src[pos + 1 + i]
            if total > 256 or pos + 17 + total > end:
                raise LJPEGError(f"Huffman table {th} at offset {pos} declares {total} codes, "
                                 f"its DHT segment holds {end - pos - 17}")
            if tc == 0 and not _build_table(&self.tables[th], &self.src[pos + 1],
                                            &self.src[pos + 17], total):
                raise LJPEGError(f"Huffman table {th} at offset {pos} is invalid: its code "
                                 f"lengths over-subscribe the code space")
            pos += 17 + total

    cdef Py_ssize_t _scan(self, Py_ssize_t pos, Py_ssize_t end) except -1:
        """Parse a scan header and decode the scan; return where the next marker starts."""
        cdef Scan sc
        cdef Reader r
        cdef int ns, k, c, cid, td, status, detail = 0
        cdef Py_ssize_t where = 0
        cdef int32_t[::1] diff
        cdef uint16_t[:, :, ::1] out = self.out
        ns = self.src[pos] if pos < end else 0
        if not 1 <= ns <= self.nc or end - pos != 4 + 2 * ns:
            raise LJPEGError(f"the SOS segment at offset {pos - 4} is malformed ({ns} "
                             f"components, length {end - pos + 2})")
        self.scans += 1
        if ns > 1 and self.h[0] * self.v[0] != 1:
            raise LJPEGError("an interleaved scan of components with sampling factors "
                             f"{self.h[0]}x{self.v[0]} is not supported")
        sc.ns = ns
        for k in range(ns):
            cid = self.src[pos + 1 + 2 * k]
            td = self.src[pos + 2 + 2 * k] >> 4
            for c in range(self.nc):
                if self.ids[c] == cid:
                    break
            else:
                raise LJPEGError(f"scan {self.scans} names component {cid}, which is not in "
                                 f"the frame")
            if self.decoded[c]:
                raise LJPEGError(f"component {cid} appears in more than one scan")
            if td >= MAX_TABLES or not self.tables[td].defined:
                raise LJPEGError(f"scan {self.scans} uses Huffman table {td}, which is not "
                                 f"defined")
            self.decoded[c] = True
            sc.comp[k] = c
            sc.table[k] = &self.tables[td]
        sc.sel = self.src[pos + 1 + 2 * ns]
        se, ah, sc.pt = self.src[pos + 2 + 2 * ns], self.src[pos + 3 + 2 * ns] >> 4, \
            self.src[pos + 3 + 2 * ns] & 15
        if not 1 <= sc.sel <= 7:
            raise LJPEGError(f"scan {self.scans} selects predictor {sc.sel} (1-7 allowed)")
        if se != 0 or ah != 0:
            raise LJPEGError(f"scan {self.scans} has Se {se} and Ah {ah} (0 in lossless JPEG)")
        if sc.pt >= self.precision:
            raise LJPEGError(f"point transform {sc.pt} leaves nothing of precision "
                             f"{self.precision}")
        sc.initial = 1 << (self.precision - sc.pt - 1)
        sc.rows, sc.cols, sc.nc = self.rows, self.cols, self.nc
        sc.signed16, sc.cornell = self.signed16, self.cornell
        sc.restart_rows = 0
        if self.restart_interval:
            if self.restart_interval % self.cols:
                raise LJPEGError(f"restart interval {self.restart_interval} is not a multiple "
                                 f"of the {self.cols} samples of a line")
            sc.restart_rows = self.restart_interval // self.cols
        diff = np.empty(self.cols * ns, np.int32)
        r.data = &self.src[0]
        r.pos, r.end = end, self.n
        r.buf, r.nbits, r.phantom, r.marker = 0, 0, 0, -1
        with nogil:
            status = _decode_scan(&r, &sc, &out[0, 0, 0], &diff[0], &where, &detail)
            if status == OK and sc.pt:
                for k in range(ns):
                    _shift_left(&out[0, 0, 0] + sc.comp[k], sc.rows * sc.cols, sc.nc, sc.pt)
        if status != OK:
            self._scan_error(status, where, detail, r.pos)
        return r.marker if r.marker >= 0 else _next_marker(&self.src[0], r.pos, self.n)

    cdef _scan_error(self, int status, Py_ssize_t where, int detail, Py_ssize_t pos):
        scan = f"scan {self.scans}"
        if status == BAD_CODE:
            raise LJPEGError(f"{scan}, line {where + 1}: a bit pattern that is no code of its "
                             f"Huffman table (corrupt data near offset {pos})")
        if status == BAD_CATEGORY:
            raise LJPEGError(f"{scan}, line {where + 1}: difference category {detail} "
                             f"(0-16 allowed)")
        if status == TRUNCATED:
            raise LJPEGError(f"{scan}, line {where + 1} of {self.rows}: the entropy-coded "
                             f"data ends early (truncated or corrupt)")
        found = "the end of the data" if detail < 0 else f"FF{detail:02X}"
        raise LJPEGError(f"{scan}: expected a restart marker at offset {where}, found {found}")


def frame_header(const uint8_t[::1] src) -> tuple:
    """(precision, rows, columns, components) from the SOF3 frame header of ``src``."""
    dec = _Decoder(src)
    dec.run(header_only=True)
    return dec.precision, dec.rows, dec.cols, dec.nc


def decode(const uint8_t[::1] src, int rows, int columns, int components, int max_precision,
           bint pred6=False, bint cornell=False) -> tuple:
    """Decode one frame: (uint16 array of shape (rows, columns, components), precision).

    The frame header must declare ``rows`` x ``columns`` x ``components`` and a precision
    of at most ``max_precision`` bits; that is checked before the output is allocated.
    ``pred6``/``cornell`` enable DCMTK's ``+w6``/``+wc`` workarounds.
    """
    dec = _Decoder(src, (rows, columns, components, max_precision), pred6, cornell)
    dec.run()
    return dec.out, dec.precision


# -- encoding --------------------------------------------------------------------------------
cdef inline int _category(int d) noexcept nogil:
    """The difference category SSSS of a difference in -32768..32767 (Table H.2)."""
    if d < 0:
        if d == -32768:
            return 16
        d = -d
    return BIT_LENGTH[d] if d < 256 else BIT_LENGTH[d >> 8] + 8


cdef void _difference_row(const uint16_t *cur, const uint16_t *prev, Py_ssize_t cols, int nc,
                          int sel, int initial, int pt, int32_t *diff) noexcept nogil:
    """The differences of one row of one component (stride ``nc`` in and out), taken modulo
    2^16 into -32768..32767; ``sel`` 0 for the first row of a scan or restart interval."""
    cdef Py_ssize_t x
    cdef int ra, rb, rc, px, value
    ra = cur[0] >> pt
    px = initial if sel == 0 else prev[0] >> pt
    diff[0] = ((ra - px + 32768) & 0xFFFF) - 32768
    for x in range(1, cols):
        value = cur[x * nc] >> pt
        if sel <= 1:
            px = ra
        else:
            rb = prev[x * nc] >> pt
            rc = prev[(x - 1) * nc] >> pt
            px = _predict(sel, ra, rb, rc)
        diff[x * nc] = ((value - px + 32768) & 0xFFFF) - 32768
        ra = value


cdef struct Writer:
    uint8_t *out
    Py_ssize_t pos
    uint64_t acc
    int nacc


cdef inline void _put(Writer *w, uint32_t bits, int n) noexcept nogil:
    cdef uint8_t b
    w.acc = (w.acc << n) | bits
    w.nacc += n
    while w.nacc >= 8:
        w.nacc -= 8
        b = <uint8_t>(w.acc >> w.nacc)
        w.out[w.pos] = b
        w.pos += 1
        if b == 0xFF:
            w.out[w.pos] = 0
            w.pos += 1


cdef inline void _pad(Writer *w) noexcept nogil:
    """Complete the last byte with 1-bits (F.1.2.3)."""
    if w.nacc:
        _put(w, (1 << (8 - w.nacc)) - 1, 8 - w.nacc)


cdef struct Plan:
    Py_ssize_t rows, cols
    int nc, sel, pt, initial
    Py_ssize_t restart_rows
    uint32_t code[17]           # the Huffman code and its length for each category
    uint8_t size[17]


cdef int _row_sel(const Plan *p, Py_ssize_t row) noexcept nogil:
    if row == 0 or (p.restart_rows and row % p.restart_rows == 0):
        return 0
    return p.sel


cdef void _differences(const Plan *p, const uint16_t *src, Py_ssize_t row,
                       int32_t *diff) noexcept nogil:
    cdef int c
    cdef Py_ssize_t line = p.cols * p.nc
    cdef int sel = _row_sel(p, row)
    for c in range(p.nc):
        _difference_row(src + row * line + c, src + (row - 1) * line + c if row else NULL,
                        p.cols, p.nc, sel, p.initial, p.pt, diff + c)


cdef void _histogram(const Plan *p, const uint16_t *src, int32_t *diff,
                     int64_t *freq) noexcept nogil:
    """freq[s]: how often a difference of category s occurs."""
    cdef Py_ssize_t row, i, n = p.cols * p.nc
    for row in range(p.rows):
        _differences(p, src, row, diff)
        for i in range(n):
            freq[_category(diff[i])] += 1


cdef Py_ssize_t _entropy_code(const Plan *p, const uint16_t *src, int32_t *diff,
                              uint8_t *out) noexcept nogil:
    cdef Writer w
    cdef Py_ssize_t row, i, n = p.cols * p.nc
    cdef int s, d, interval = 0
    w.out, w.pos, w.acc, w.nacc = out, 0, 0, 0
    for row in range(p.rows):
        if row and p.restart_rows and row % p.restart_rows == 0:
            _pad(&w)
            w.out[w.pos] = 0xFF
            w.out[w.pos + 1] = 0xD0 + (interval & 7)
            w.pos += 2
            w.acc, w.nacc = 0, 0
            interval += 1
        _differences(p, src, row, diff)
        for i in range(n):
            d = diff[i]
            s = _category(d)
            _put(&w, p.code[s], p.size[s])
            if 0 < s < 16:
                _put(&w, <uint32_t>((d if d > 0 else d - 1) & ((1 << s) - 1)), s)
    _pad(&w)
    return w.pos


def _code_lengths(freq) -> list:
    """Code lengths of at most 16 bits for the 17 categories (Annex K.2): Huffman's
    procedure with one reserved code point, so that no code is all 1-bits, then the longest
    codes shortened as in Figure K.3. A category that never occurs gets length 0.

    Ties go as in Figure K.1 (the least frequent, then the highest symbol, is merged first,
    and the pair keeps its number), which puts the reserved point deepest: the tables are
    those libjpeg computes."""
    import heapq
    weights = list(freq) + [1]                  # the reserved code point, symbol 17
    size = [0] * len(weights)
    heap = [(f, -s, [s]) for s, f in enumerate(weights) if f]
    heapq.heapify(heap)
    while len(heap) > 1:
        f1, key, m1 = heapq.heappop(heap)
        f2, _, m2 = heapq.heappop(heap)
        for s in m1 + m2:
            size[s] += 1
        heapq.heappush(heap, (f1 + f2, key, m1 + m2))
    bits = [0] * 33
    for s in size:
        if s:
            bits[s] += 1
    for i in range(32, 16, -1):                 # Figure K.3
        while bits[i]:
            j = i - 2
            while not bits[j]:
                j -= 1
            bits[i] -= 2
            bits[i - 1] += 1
            bits[j + 1] += 2
            bits[j] -= 1
    longest = max(i for i in range(17) if bits[i])
    bits[longest] -= 1                          # drop the reserved code point: the last one
    order = sorted((s for s in range(17) if size[s]), key=lambda s: (size[s], s))
    lengths = [0] * 17
    k = 0
    for length in range(1, 17):
        for _ in range(bits[length]):
            lengths[order[k]] = length
            k += 1
    return lengths


def _huffman_segment(lengths: list) -> bytes:
    """The DHT segment of table 0 (class 0) with these code lengths."""
    order = sorted((s for s in range(17) if lengths[s]), key=lambda s: (lengths[s], s))
    counts = [0] * 16
    for s in order:
        counts[lengths[s] - 1] += 1
    return _segment(0xC4, bytes([0]) + bytes(counts) + bytes(order))


def encode(const uint16_t[:, :, ::1] src, int precision, int predictor=1,
           int point_transform=0, int restart_rows=0) -> bytes:
    """Encode one frame, an array (rows, columns, components) of samples below
    2^``precision``, as one interleaved scan with ``predictor`` (1-7) and ``point_transform``,
    and a restart marker every ``restart_rows`` rows (0: none)."""
    cdef Plan p
    cdef Py_ssize_t rows = src.shape[0], cols = src.shape[1], used
    cdef int nc = src.shape[2], s
    cdef int64_t[::1] freq
    cdef int32_t[::1] diff
    cdef uint8_t[::1] out
    _check_encode(rows, cols, nc, precision, predictor, point_transform, restart_rows)
    top = int(np.max(src)) if rows and cols else 0
    if top >> precision:
        raise LJPEGError(f"sample value {top} does not fit precision {precision}")
    p.rows, p.cols, p.nc = rows, cols, nc
    p.sel, p.pt = predictor, point_transform
    p.initial = 1 << (precision - point_transform - 1)
    p.restart_rows = restart_rows
    counts = np.zeros(17, np.int64)
    freq = counts
    diff = np.empty(cols * nc, np.int32)
    with nogil:
        _histogram(&p, &src[0, 0, 0], &diff[0], &freq[0])
    lengths = _code_lengths(counts.tolist())
    codes = _canonical_codes(lengths)
    bits = 0
    for s in range(17):
        p.size[s] = lengths[s]
        p.code[s] = codes[s]
        bits += int(counts[s]) * (lengths[s] + (s if s < 16 else 0))
    intervals = (rows + restart_rows - 1) // restart_rows if restart_rows else 1
    out = np.empty(2 * (bits // 8 + 2 * intervals) + 16, np.uint8)
    with nogil:
        used = _entropy_code(&p, &src[0, 0, 0], &diff[0], &out[0])
    head = _headers(rows, cols, nc, precision, predictor, point_transform, restart_rows * cols,
                    lengths)
    fill = b"\xff" if (len(head) + used) % 2 else b""     # even length, no padding byte
    return b"".join([head, bytes(out[:used]), fill, b"\xff\xd9"])


def _check_encode(rows, cols, nc, precision, predictor, point_transform, restart_rows):
    if not (1 <= rows <= 0xFFFF and 1 <= cols <= 0xFFFF):
        raise LJPEGError(f"image size {rows} x {cols} is outside 1-65535")
    if not 1 <= nc <= MAX_COMPONENTS:
        raise LJPEGError(f"{nc} components (1 to 4 supported)")
    if not 2 <= precision <= 16:
        raise LJPEGError(f"sample precision {precision} is outside 2-16")
    if not 1 <= predictor <= 7:
        raise LJPEGError(f"predictor {predictor} is outside 1-7")
    if not 0 <= point_transform < min(precision, 16):
        raise LJPEGError(f"point transform {point_transform} does not fit precision "
                         f"{precision}")
    if restart_rows < 0 or restart_rows * cols > 0xFFFF:
        raise LJPEGError(f"a restart interval of {restart_rows} rows of {cols} samples "
                         f"exceeds 65535")


def _canonical_codes(lengths: list) -> list:
    """The code of each category, assigned in order of length then category (C.2)."""
    codes = [0] * 17
    code = 0
    order = sorted((s for s in range(17) if lengths[s]), key=lambda s: (lengths[s], s))
    previous = lengths[order[0]] if order else 0
    for s in order:
        code <<= lengths[s] - previous
        previous = lengths[s]
        codes[s] = code
        code += 1
    return codes


def _headers(rows, cols, nc, precision, predictor, point_transform, restart_interval,
             lengths) -> bytes:
    """SOI, a JFIF marker (one component), SOF3, DHT, DRI (when used) and SOS, laid out as
    DCMTK's dcmcjpeg writes them: component 1 alone, else components 0 to n-1; all use
    Huffman table 0."""
    ids = bytes([1]) if nc == 1 else bytes(range(nc))
    sof = bytes([precision]) + rows.to_bytes(2, "big") + cols.to_bytes(2, "big") + bytes([nc])
    sof += b"".join(bytes([ids[c], 0x11, 0]) for c in range(nc))
    sos = bytes([nc]) + b"".join(bytes([ids[c], 0]) for c in range(nc))
    sos += bytes([predictor, 0, point_transform])
    parts = [b"\xff\xd8", _segment(0xC3, sof), _huffman_segment(lengths)]
    if nc == 1:
        parts.insert(1, _segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"))
    if restart_interval:
        parts.append(_segment(0xDD, restart_interval.to_bytes(2, "big")))
    parts.append(_segment(0xDA, sos))
    return b"".join(parts)


def _segment(code: int, body: bytes) -> bytes:
    return bytes([0xFF, code]) + (len(body) + 2).to_bytes(2, "big") + body
