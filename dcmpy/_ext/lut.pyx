# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The rendering loops of dcmimgle/dcmimage: table look-up and colour-space conversion.

Every pixel of a rendered frame goes through one table: the modality, VOI and presentation
transforms are composed into a table indexed by the stored value (built once per frame
setting), so the per-pixel work is one clamped look-up. Indices outside the table are
clamped to its ends: a stored value the header did not promise never reads past the table.
All loops run without the GIL.
"""
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t

ctypedef fused src_t:
    uint8_t
    int8_t
    uint16_t
    int16_t
    uint32_t
    int32_t

ctypedef fused out_t:
    uint8_t
    uint16_t
    uint32_t


def apply_lut(const src_t[::1] src, const out_t[::1] table, int64_t offset, out_t[::1] out):
    """``out[i] = table[clamp(src[i] - offset)]`` over the flattened frame."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = table.shape[0] - 1, k
    if out.shape[0] < n:
        raise ValueError("output buffer is smaller than the input")
    if last < 0:
        raise ValueError("empty look-up table")
    with nogil:
        for i in range(n):
            k = <int64_t>src[i] - offset
            if k < 0:
                k = 0
            elif k > last:
                k = last
            out[i] = table[k]


def apply_lut3(const src_t[::1] src, const out_t[:, ::1] tables, int64_t offset,
               out_t[::1] out):
    """Palette colour: ``out[3i + c] = tables[c, clamp(src[i] - offset)]``."""
    cdef Py_ssize_t i, n = src.shape[0]
    cdef int64_t last = tables.shape[1] - 1, k
    if tables.shape[0] != 3 or out.shape[0] < 3 * n:
        raise ValueError("palette tables or output buffer of the wrong shape")
    if last < 0:
        raise ValueError("empty look-up table")
    with nogil:
        for i in range(n):
            k = <int64_t>src[i] - offset
            if k < 0:
                k = 0
            elif k > last:
                k = last
            out[3 * i] = tables[0, k]
            out[3 * i + 1] = tables[1, k]
            out[3 * i + 2] = tables[2, k]


cdef enum:
    C_FULL_TABLES = 0
    C_FULL = 1
    C_PARTIAL = 2

FULL_TABLES, FULL, PARTIAL = C_FULL_TABLES, C_FULL, C_PARTIAL


def ybr_to_rgb(const src_t[::1] src, out_t[::1] out, int64_t maxval, int mode):
    """YCbCr triples to RGB triples, clipped to 0..maxval, as DCMTK computes them.

    ``FULL``: R = Y + 1.4020 Cr - 0.7010 m, G = Y - 0.3441 Cb - 0.7141 Cr + 0.5291 m,
    B = Y + 1.7720 Cb - 0.8859 m (m = maxval), truncated toward zero. ``FULL_TABLES`` (8-bit
    YBR_FULL): the same with each product truncated on its own (DCMTK's look-up tables).
    ``PARTIAL``: R = 1.1631 Y + 1.5969 Cr - 0.8713 m, G = 1.1631 Y - 0.3913 Cb - 0.8121 Cr
    + 0.5290 m, B = 1.1631 Y + 2.0177 Cb - 1.0820 m."""
    cdef Py_ssize_t i, n = src.shape[0] // 3
    cdef double y, cb, cr, m = <double>maxval
    cdef int64_t rcr[256]
    cdef int64_t gcb[256]
    cdef int64_t gcr[256]
    cdef int64_t bcb[256]
    cdef int k
    if out.shape[0] < 3 * n:
        raise ValueError("output buffer is smaller than the input")
    if mode == C_FULL_TABLES and maxval != 255:
        mode = C_FULL
    with nogil:
        if mode == C_FULL_TABLES:
            for k in range(256):
                rcr[k] = <int64_t>(1.4020 * k - 0.7010 * m)
                gcb[k] = <int64_t>(0.3441 * k)
                gcr[k] = <int64_t>(0.7141 * k - 0.5291 * m)
                bcb[k] = <int64_t>(1.7720 * k - 0.8859 * m)
            for i in range(n):
                k = <int>src[3 * i]
                out[3 * i] = _clip_int(k + rcr[_byte(src[3 * i + 2])], maxval)
                out[3 * i + 1] = _clip_int(k - gcb[_byte(src[3 * i + 1])]
                                           - gcr[_byte(src[3 * i + 2])], maxval)
                out[3 * i + 2] = _clip_int(k + bcb[_byte(src[3 * i + 1])], maxval)
        elif mode == C_FULL:
            for i in range(n):
                y = src[3 * i]
                cb = src[3 * i + 1]
                cr = src[3 * i + 2]
                out[3 * i] = _clip(y + 1.4020 * cr - 0.7010 * m, maxval)
                out[3 * i + 1] = _clip(y - 0.3441 * cb - 0.7141 * cr + 0.5291 * m, maxval)
                out[3 * i + 2] = _clip(y + 1.7720 * cb - 0.8859 * m, maxval)
        else:
            for i in range(n):
                y = 1.1631 * src[3 * i]
                cb = src[3 * i + 1]
                cr = src[3 * i + 2]
                out[3 * i] = _clip(y + 1.5969 * cr - 0.8713 * m, maxval)
                out[3 * i + 1] = _clip(y - 0.3913 * cb - 0.8121 * cr + 0.5290 * m, maxval)
                out[3 * i + 2] = _clip(y + 2.0177 * cb - 1.0820 * m, maxval)


cdef inline int _byte(int64_t v) noexcept nogil:
    return <int>(v & 0xFF)


cdef inline uint32_t _clip_int(int64_t v, int64_t maxval) noexcept nogil:
    if v <= 0:
        return 0
    if v >= maxval:
        return <uint32_t>maxval
    return <uint32_t>v


cdef inline uint32_t _clip(double v, int64_t maxval) noexcept nogil:
    """Truncate toward zero, then clip to 0..maxval."""
    if v <= 0:
        return 0
    if v >= maxval:
        return <uint32_t>maxval
    return <uint32_t>v
