# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""RLE Lossless (PS3.5 Annex G): one frame at a time, both directions, without the GIL.

A frame is a 64-byte header (segment count and up to 15 segment offsets) followed by PackBits
segments, one per byte plane: for each sample, its most significant byte first. Decoded pixels
come out as DICOM stores uncompressed pixel data: little-endian samples, interleaved by pixel
(Planar Configuration 0). Every offset and count is checked against the buffers.
"""
from libc.stdint cimport uint8_t, uint32_t
from libc.string cimport memcpy, memset

DEF MAX_SEGMENTS = 15
DEF HEADER = 64


class RLEError(ValueError):
    """A frame that is not valid RLE (the message says why)."""


cdef inline uint32_t _ul(const uint8_t[::1] b, Py_ssize_t i) noexcept nogil:
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (<uint32_t>b[i + 3] << 24)


cdef Py_ssize_t _unpack(const uint8_t *src, Py_ssize_t n_src, uint8_t *out, Py_ssize_t n_out,
                        Py_ssize_t step) noexcept nogil:
    """PackBits-decode into every ``step``-th byte of ``out``; return the bytes written, or
    -1 when a literal run is cut short by the end of the segment."""
    cdef Py_ssize_t i = 0, o = 0, count, k
    cdef uint8_t c, v
    while i < n_src and o < n_out:
        c = src[i]
        i += 1
        if c < 128:
            count = c + 1
            if i + count > n_src:
                return -1
            if count > n_out - o:
                count = n_out - o
            if step == 1:
                memcpy(out + o, src + i, count)
            else:
                for k in range(count):
                    out[(o + k) * step] = src[i + k]
            i += c + 1
            o += count
        elif c > 128:
            if i >= n_src:
                return -1
            count = 257 - c
            if count > n_out - o:
                count = n_out - o
            v = src[i]
            i += 1
            if step == 1:
                memset(out + o, v, count)
            else:
                for k in range(count):
                    out[(o + k) * step] = v
            o += count
    return o


def decode_frame(const uint8_t[::1] src, Py_ssize_t rows, Py_ssize_t columns, int samples,
                 int bytes_per_sample, uint8_t[::1] out, bint msb_first=True) -> None:
    """Decode one RLE frame into ``out`` (rows*columns*samples*bytes_per_sample bytes).

    ``msb_first=False`` reads segments least significant byte first (DCMTK's ``+br``).
    """
    cdef Py_ssize_t pixels = rows * columns
    cdef int nseg = samples * bytes_per_sample
    cdef int step = nseg
    cdef Py_ssize_t n = src.shape[0], start, end, got
    cdef int s, b, seg, count, pos
    cdef uint32_t offsets[MAX_SEGMENTS + 1]
    if pixels <= 0 or nseg <= 0 or nseg > MAX_SEGMENTS:
        raise RLEError(f"{samples} samples of {bytes_per_sample} bytes need {nseg} segments "
                       f"(1 to {MAX_SEGMENTS} allowed)")
    if out.shape[0] < pixels * nseg:
        raise RLEError("output buffer too small for the frame")
    if n < HEADER:
        raise RLEError(f"frame of {n} bytes is shorter than the 64-byte RLE header")
    count = <int>_ul(src, 0)
    if count != nseg:
        raise RLEError(f"header declares {count} segments, the image needs {nseg}")
    for seg in range(count):
        offsets[seg] = _ul(src, 4 + 4 * seg)
    offsets[count] = <uint32_t>n
    for seg in range(count):
        if offsets[seg] < HEADER or offsets[seg] > offsets[seg + 1]:
            raise RLEError(f"segment {seg + 1} offset {offsets[seg]} is outside the frame or "
                           f"out of order")
    for seg in range(count):
        s = seg // bytes_per_sample
        b = seg % bytes_per_sample
        pos = (bytes_per_sample - 1 - b) if msb_first else b
        start, end = offsets[seg], offsets[seg + 1]
        with nogil:
            got = _unpack(&src[start], end - start, &out[s * bytes_per_sample + pos], pixels,
                          step)
        if got < 0:
            raise RLEError(f"segment {seg + 1} ends inside a literal run")
        if got < pixels:
            raise RLEError(f"segment {seg + 1} decodes to {got} bytes, the image needs {pixels}")


cdef Py_ssize_t _pack_row(const uint8_t *src, Py_ssize_t n, Py_ssize_t step,
                          uint8_t *out) noexcept nogil:
    """PackBits-encode ``n`` bytes taken every ``step`` bytes: runs of 3 or more, and a pair
    that ends the row, become replicate runs (as DCMTK encodes, so our output equals its)."""
    cdef Py_ssize_t i = 0, o = 0, run, lit_start, lit
    cdef uint8_t v
    while i < n:
        v = src[i * step]
        run = 1
        while i + run < n and src[(i + run) * step] == v:
            run += 1
        if run >= 3 or (run == 2 and i + 2 == n):
            while run > 0:              # 128 at a time; a lone leftover byte is a literal
                lit = run if run < 128 else 128
                if lit >= 2:
                    out[o] = <uint8_t>(257 - lit)
                    out[o + 1] = v
                else:
                    out[o] = 0
                    out[o + 1] = v
                o += 2
                i += lit
                run -= lit
            continue
        lit_start = i
        lit = 0
        while i < n and lit < 128:
            if i + 1 < n and src[i * step] == src[(i + 1) * step] and (
                    i + 2 == n or src[i * step] == src[(i + 2) * step]):
                break   # a run of 3 or more, or a pair ending the row, is a replicate run
            i += 1
            lit += 1
        out[o] = <uint8_t>(lit - 1)
        o += 1
        for run in range(lit):
            out[o + run] = src[(lit_start + run) * step]
        o += lit
    return o


def encode_frame(const uint8_t[::1] src, Py_ssize_t rows, Py_ssize_t columns, int samples,
                 int bytes_per_sample, bint planar=False) -> bytes:
    """Encode one frame of little-endian pixel data (interleaved, or by plane when ``planar``)."""
    cdef Py_ssize_t pixels = rows * columns
    cdef int nseg = samples * bytes_per_sample
    cdef Py_ssize_t worst, o = HEADER, r, base, step
    cdef int seg, s, b
    if pixels <= 0 or nseg <= 0 or nseg > MAX_SEGMENTS:
        raise RLEError(f"{samples} samples of {bytes_per_sample} bytes need {nseg} segments "
                       f"(1 to {MAX_SEGMENTS} allowed)")
    if src.shape[0] < pixels * nseg:
        raise RLEError(f"frame has {src.shape[0]} bytes, the image needs {pixels * nseg}")
    worst = HEADER + nseg * (rows * (columns + columns // 128 + 2) + 1)
    buf = bytearray(worst)
    cdef uint8_t[::1] out = buf
    memset(&out[0], 0, HEADER)
    out[0] = nseg
    for seg in range(nseg):
        s = seg // bytes_per_sample
        b = bytes_per_sample - 1 - seg % bytes_per_sample
        out[4 + 4 * seg] = o & 0xFF
        out[5 + 4 * seg] = (o >> 8) & 0xFF
        out[6 + 4 * seg] = (o >> 16) & 0xFF
        out[7 + 4 * seg] = (o >> 24) & 0xFF
        if planar:
            base, step = s * pixels * bytes_per_sample + b, bytes_per_sample
        else:
            base, step = s * bytes_per_sample + b, nseg
        with nogil:
            for r in range(rows):
                o += _pack_row(&src[base + r * columns * step], columns, step, &out[o])
            if o & 1:
                out[o] = 0
                o += 1
    return bytes(out[:o])
