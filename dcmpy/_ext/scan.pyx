# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""One pass over a DICOM data set's bytes into a table of elements.

``scan`` walks the buffer once, without recursion (an explicit stack, so nesting depth is bounded
only by the data), and returns an ``int64`` table with one row per element, item and pixel item.
Every length is checked against the end of its container before it is used.

Columns of the table (see the ``C_*`` constants):
tag, vr (two ASCII bytes as ``b0 << 8 | b1``, 0 when the syntax is implicit), header offset, value
offset, length as stored (``0xFFFFFFFF`` for undefined), next sibling row, depth, kind, end offset
(after the value and any delimiter), syntax of the element (``SYN_*``).
"""
from cpython cimport array
import array
from libc.stdint cimport uint8_t, uint16_t, uint32_t, int64_t

DEF NCOLS = 10
C_TAG, C_VR, C_HDR, C_VAL, C_LEN, C_NEXT, C_DEPTH, C_KIND, C_END, C_SYN = range(NCOLS)

# kinds of rows
K_ELEMENT, K_SEQUENCE, K_ITEM, K_PIXSEQ, K_PIXITEM = range(5)
# syntaxes
SYN_IMPLICIT_LE, SYN_EXPLICIT_LE, SYN_EXPLICIT_BE = range(3)
UNDEFINED = 0xFFFFFFFF

# frame kinds on the stack
DEF F_DATASET = 0
DEF F_SEQ = 1
DEF F_PIXSEQ = 2

DEF ITEM = 0xFFFEE000
DEF ITEM_DELIM = 0xFFFEE00D
DEF SEQ_DELIM = 0xFFFEE0DD
DEF PIXEL_DATA = 0x7FE00010
DEF VOI_LUT_SEQUENCE = 0x00283010
DEF UNDEF = 0xFFFFFFFF

# error codes
(E_NONE, E_TRUNCATED, E_PAST_END, E_BAD_ITEM, E_DEPTH, E_MISSING_DELIM, E_MISSING_ITEM_DELIM,
 E_STRAY, E_UNDEFINED_LENGTH, E_ILLEGAL_VOI, E_STRICT) = range(11)
ERROR_TEXT = {
    E_TRUNCATED: "premature end of data in element header",
    E_PAST_END: "value length exceeds the end of its item, sequence or the data",
    E_BAD_ITEM: "expected an item or sequence delimiter",
    E_DEPTH: "sequences nested too deeply",
    E_MISSING_DELIM: "Sequence Delimitation Item missing",
    E_MISSING_ITEM_DELIM: "Item Delimitation Item missing",
    E_STRAY: "item or delimiter outside a sequence",
    E_UNDEFINED_LENGTH: "illegal undefined length for this element",
    E_ILLEGAL_VOI: "VOI LUT Sequence stored as OW (read it with +vi)",
    E_STRICT: "not valid DICOM (odd length, non-standard VR or inconsistent lengths); "
              "read without strict to accept it",
}


cdef inline uint16_t rd16(const uint8_t *p, bint little) noexcept nogil:
    if little:
        return p[0] | (p[1] << 8)
    return (p[0] << 8) | p[1]


cdef inline uint32_t rd32(const uint8_t *p, bint little) noexcept nogil:
    if little:
        return p[0] | (p[1] << 8) | (p[2] << 16) | (<uint32_t>p[3] << 24)
    return (<uint32_t>p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]


cdef inline bint long_vr(uint16_t vr) noexcept nogil:
    """True for the VRs whose explicit header has 2 reserved bytes and a 32-bit length."""
    return (vr == 0x4F42 or vr == 0x4F57 or vr == 0x4F46 or vr == 0x5351 or vr == 0x5554
            or vr == 0x554E or vr == 0x4F44 or vr == 0x4F4C or vr == 0x4F56 or vr == 0x5356
            or vr == 0x5556 or vr == 0x5543 or vr == 0x5552)


cdef inline bint known_vr(uint16_t vr) noexcept nogil:
    """One of the VRs of PS3.5 6.2."""
    return (vr == 0x4145 or vr == 0x4153 or vr == 0x4154 or vr == 0x4353 or vr == 0x4441
            or vr == 0x4453 or vr == 0x4454 or vr == 0x464C or vr == 0x4644 or vr == 0x4953
            or vr == 0x4C4F or vr == 0x4C54 or vr == 0x504E or vr == 0x5348 or vr == 0x534C
            or vr == 0x5353 or vr == 0x5354 or vr == 0x544D or vr == 0x5549 or vr == 0x554C
            or vr == 0x5553 or long_vr(vr))


cdef inline bint uses_long_length(uint16_t vr) noexcept nogil:
    """Long header: the long VRs, and (as DCMTK) unknown VRs written as two capital letters."""
    if long_vr(vr):
        return True
    if known_vr(vr):
        return False
    return 0x41 <= (vr >> 8) <= 0x5A and 0x41 <= (vr & 0xFF) <= 0x5A


cdef inline bint in_sorted(const uint32_t[::1] arr, uint32_t key) noexcept nogil:
    cdef Py_ssize_t lo = 0, hi = arr.shape[0], mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if arr[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo < arr.shape[0] and arr[lo] == key


cdef array.array _INT64 = array.array("q")


cdef inline array.array _zeros(Py_ssize_t n):
    return array.clone(_INT64, n, zero=False)


def as_table(array.array flat, Py_ssize_t n):
    """An (n, NCOLS) memoryview over the first n rows of a flat int64 array (no NumPy needed).

    A memoryview cannot have a zero dimension, so an empty table keeps one unused row; the
    number of rows in use is returned beside it by ``scan``.
    """
    array.resize(flat, max(n, 1) * NCOLS)
    return memoryview(flat).cast("B").cast("q", [max(n, 1), NCOLS])


cdef class _Table:
    cdef int64_t[:, ::1] rows
    cdef array.array flat
    cdef Py_ssize_t n

    def __cinit__(self, Py_ssize_t capacity):
        capacity = max(capacity, 16)
        self.flat = _zeros(capacity * NCOLS)
        self.rows = memoryview(self.flat).cast("B").cast("q", [capacity, NCOLS])
        self.n = 0

    cdef Py_ssize_t add(self, int64_t tag, int64_t vr, int64_t hdr, int64_t val, int64_t length,
                        int64_t depth, int64_t kind, int64_t syn) except -1:
        cdef Py_ssize_t i = self.n
        if i == self.rows.shape[0]:
            self.rows = None
            array.resize(self.flat, 2 * i * NCOLS)
            self.rows = memoryview(self.flat).cast("B").cast("q", [2 * i, NCOLS])
        self.rows[i, 0] = tag
        self.rows[i, 1] = vr
        self.rows[i, 2] = hdr
        self.rows[i, 3] = val
        self.rows[i, 4] = length
        self.rows[i, 5] = i + 1
        self.rows[i, 6] = depth
        self.rows[i, 7] = kind
        self.rows[i, 8] = val + (0 if length == UNDEF else length)
        self.rows[i, 9] = syn
        self.n = i + 1
        return i


def scan(const uint8_t[::1] buf, Py_ssize_t start, Py_ssize_t end, int syntax,
         const uint32_t[::1] sq_tags, uint32_t stop_tag=0xFFFFFFFF, bint stop_after=False,
         bint cp246=True, Py_ssize_t max_depth=10000, uint32_t stop_below=0,
         const uint32_t[::1] known_tags=None, bint assume_even=False, bint dictionary_vr=False,
         bint obow_as_sequence=False, bint convert_un=False, bint replace_delim=False,
         bint nonstandard_implicit=False, bint voi_as_sequence=False, bint strict=False):
    """Scan ``buf[start:end]`` as a data set in ``syntax`` (a ``SYN_*`` value).

    ``sq_tags``: sorted public tags whose dictionary VR is SQ, and ``known_tags`` all public
    tags of the dictionary (for implicit VR: an unknown tag of undefined length is a sequence,
    a known non-SQ one is an error). ``stop_tag``: stop at the first top-level element whose
    tag is >= it (or, with ``stop_after``, > it); ``stop_below``: also stop at one whose tag is
    below it. ``cp246``: read explicit UN of undefined length as an implicit VR sequence
    (CP-246). ``assume_even``: an odd length is one byte short (dcmdump +ae).
    ``dictionary_vr``: a tag the dictionary calls SQ is a sequence whatever VR is stored (-ev).
    ``obow_as_sequence``: an OB/OW element of undefined length other than Pixel Data is read
    as a sequence (+oi) rather than rejected. ``convert_un``: a UN element the dictionary calls
    SQ is read as an implicit VR sequence (+uc). ``replace_delim``: a sequence delimiter ending
    an item, or an item delimiter ending a sequence, is taken for the right one (+rd).
    ``nonstandard_implicit``: an element whose VR is not a standard one is read as implicit VR
    little endian (-vr). ``voi_as_sequence``: a VOI LUT Sequence stored as OW is read as the
    sequence it is (+vi); otherwise it is an error, as DCMTK's default. ``strict``: none of the
    leniencies: odd lengths, non-standard VRs, items longer than their sequence, children
    running past their container and stray item delimiters are errors (``E_STRICT``).

    Leniency follows DCMTK: an item longer than its defined-length sequence ends with the
    sequence; an undefined-length sequence or item may run past a defined-length container,
    which then ends with it; a stray item delimiter at the top level is skipped.

    Returns ``(table, count, pos, error, error_pos, error_tag)``: the rows (``count`` of them in
    use), the offset where the scan stopped, an ``E_*`` code (0 on success) with the offset and
    tag it refers to.
    """
    cdef const uint8_t *p = &buf[0] if buf.shape[0] else NULL
    if end > buf.shape[0]:
        end = buf.shape[0]
    # start small (a header scan stops early; a large block would go through mmap), grow by doubling
    cdef _Table table = _Table(min((end - start) // 24 + 16, 256))
    cdef Py_ssize_t pos = start
    cdef Py_ssize_t cap = 64
    # the stack: frame kind, end offset (-1 = undefined), container row, syntax
    cdef array.array stack_arr = _zeros(cap * 4)
    cdef int64_t[:, ::1] stack = memoryview(stack_arr).cast("B").cast("q", [cap, 4])
    cdef Py_ssize_t sp = 0
    cdef int error = 0, late_error = 0
    cdef Py_ssize_t err_pos = 0, late_pos = 0
    cdef uint32_t tag = 0, length, flen, err_tag = 0, late_tag = 0
    cdef uint16_t vr
    cdef Py_ssize_t hdr, row, limit, fend
    cdef int syn, frame, kind
    cdef bint little, explicit, dict_sq, un_sq
    stack[0, 0] = F_DATASET
    stack[0, 1] = end
    stack[0, 2] = -1
    stack[0, 3] = syntax

    while True:
        frame = stack[sp, 0]
        fend = stack[sp, 1]
        syn = stack[sp, 3]
        little = syn != SYN_EXPLICIT_BE
        explicit = syn != SYN_IMPLICIT_LE
        limit = end if fend < 0 else fend
        if pos >= limit:
            if sp == 0:
                break
            if fend < 0:
                error = E_MISSING_DELIM
                err_pos = pos
                err_tag = <uint32_t>table.rows[stack[sp, 2], 0]
                break
            # a defined-length container ends here (or later, if an undefined-length child
            # ran past its end: DCMTK reads that child whole)
            if strict and pos > limit:
                error, err_pos, err_tag = E_STRICT, pos, <uint32_t>table.rows[stack[sp, 2], 0]
                break
            row = stack[sp, 2]
            table.rows[row, 5] = table.n
            table.rows[row, 8] = pos
            sp -= 1
            continue
        if pos + 8 > end:
            error = E_TRUNCATED
            err_pos = pos
            err_tag = 0
            if pos + 4 <= end:          # name the element whose header is cut short
                err_tag = (<uint32_t>rd16(p + pos, little) << 16) | rd16(p + pos + 2, little)
            break
        hdr = pos
        tag = (<uint32_t>rd16(p + pos, little) << 16) | rd16(p + pos + 2, little)

        if frame == F_DATASET:
            if (tag >> 16) == 0xFFFE:
                if tag == ITEM_DELIM and sp == 0 and not strict:
                    pos += 8            # a stray item delimiter at the top level: skipped
                    continue
                if tag == ITEM_DELIM and fend < 0:
                    pos += 8            # the end of an undefined-length item
                    row = stack[sp, 2]
                    table.rows[row, 5] = table.n
                    table.rows[row, 8] = pos
                    sp -= 1
                    continue
                if tag == SEQ_DELIM and fend < 0 and sp > 0 and replace_delim:
                    pos += 8            # +rd: a sequence delimiter where the item's belongs
                    row = stack[sp, 2]
                    table.rows[row, 5] = table.n
                    table.rows[row, 8] = pos
                    sp -= 1
                    continue
                error = E_MISSING_ITEM_DELIM if tag == SEQ_DELIM and sp > 0 else E_STRAY
                err_pos = pos
                err_tag = tag
                break
            if sp == 0 and (tag > stop_tag or (tag == stop_tag and not stop_after)
                            or tag < stop_below):
                break
            if explicit:
                vr = (p[pos + 4] << 8) | p[pos + 5]
                if nonstandard_implicit and not known_vr(vr):
                    vr = 0              # -vr: read this element as implicit VR little endian
                    length = rd32(p + pos + 4, True)
                    pos += 8
                elif uses_long_length(vr):
                    if pos + 12 > end:
                        error = E_TRUNCATED
                        err_pos = pos
                        err_tag = tag
                        break
                    length = rd32(p + pos + 8, little)
                    pos += 12
                else:
                    length = rd16(p + pos + 6, little)
                    pos += 8
            else:
                vr = 0
                length = rd32(p + pos + 4, little)
                pos += 8
            if assume_even and length != UNDEF and length & 1:
                length += 1
            if strict and ((length != UNDEF and length & 1) or (vr and not known_vr(vr))):
                error, err_pos, err_tag = E_STRICT, hdr, tag
                break
            dict_sq = dictionary_vr and vr and in_sorted(sq_tags, tag)
            un_sq = convert_un and vr == 0x554E and in_sorted(sq_tags, tag)
            kind = K_SEQUENCE if dict_sq or un_sq else element_kind(
                tag, vr, length, cp246, sq_tags, known_tags, obow_as_sequence)
            if tag == VOI_LUT_SEQUENCE and vr == 0x4F57 and length != UNDEF:
                if not voi_as_sequence:
                    error = E_ILLEGAL_VOI
                    err_pos = hdr
                    err_tag = tag
                    break
                kind = K_SEQUENCE
            if kind < 0:
                error = E_UNDEFINED_LENGTH
                err_pos = hdr
                err_tag = tag
                break
            row = table.add(tag, vr, hdr, pos, length, sp, kind, syn)
            if kind == K_ELEMENT:
                if pos + <Py_ssize_t>length > limit:
                    error = E_PAST_END
                    err_pos = hdr
                    err_tag = tag
                    break
                pos += length
                continue
            frame = F_SEQ if kind == K_SEQUENCE else F_PIXSEQ
            flen = length
            if length != UNDEF and pos + <Py_ssize_t>length > limit:
                # a sequence longer than what holds it: an error, but (as DCMTK) its content
                # is read up to that end first, so that a partial read shows it
                if not late_error:
                    late_error, late_pos, late_tag = E_PAST_END, hdr, tag
                flen = <uint32_t>(limit - pos)
            # an explicit UN sequence (CP-246) holds implicit VR little endian items
            syn = SYN_IMPLICIT_LE if vr == 0x554E and (cp246 or un_sq) and not dict_sq else syn
        else:
            # inside a sequence or a pixel sequence: items and the sequence delimiter only
            length = rd32(p + pos + 4, little)
            if tag == SEQ_DELIM or (tag == ITEM_DELIM and replace_delim and frame == F_SEQ):
                pos += 8
                row = stack[sp, 2]
                table.rows[row, 5] = table.n
                table.rows[row, 8] = pos
                sp -= 1
                continue
            if tag != ITEM:
                error = E_BAD_ITEM
                err_pos = pos
                err_tag = tag
                break
            pos += 8
            flen = length
            if length != UNDEF and pos + <Py_ssize_t>length > limit:
                if frame == F_PIXSEQ or fend < 0:
                    error = E_PAST_END
                    err_pos = hdr
                    err_tag = tag
                    break
                if strict:
                    error, err_pos, err_tag = E_STRICT, hdr, tag
                    break
                flen = <uint32_t>(limit - pos)   # an item longer than its sequence: cut there
            if frame == F_PIXSEQ:
                if length == UNDEF:
                    error = E_BAD_ITEM
                    err_pos = hdr
                    err_tag = tag
                    break
                table.add(tag, 0, hdr, pos, length, sp, K_PIXITEM, syn)
                pos += length
                continue
            row = table.add(tag, 0, hdr, pos, length, sp, K_ITEM, syn)
            frame = F_DATASET
        # open the container just added: a sequence, a pixel sequence or an item
        if sp + 1 >= max_depth:
            error = E_DEPTH
            err_pos = hdr
            err_tag = tag
            break
        sp += 1
        if sp == cap:
            stack = None
            cap *= 2
            array.resize(stack_arr, cap * 4)
            stack = memoryview(stack_arr).cast("B").cast("q", [cap, 4])
        stack[sp, 0] = frame
        stack[sp, 1] = -1 if flen == UNDEF else pos + flen
        stack[sp, 2] = row
        stack[sp, 3] = syn

    if not error and late_error:
        error, err_pos, err_tag = late_error, late_pos, late_tag
    # close whatever is still open (after an error or at a stop tag)
    while sp > 0:
        row = stack[sp, 2]
        table.rows[row, 5] = table.n
        table.rows[row, 8] = pos
        sp -= 1
    n = table.n
    table.rows = None
    return as_table(table.flat, n), n, pos, error, err_pos, err_tag


cdef inline int element_kind(uint32_t tag, uint16_t vr, uint32_t length, bint cp246,
                             const uint32_t[::1] sq_tags, const uint32_t[::1] known_tags,
                             bint obow_as_sequence) noexcept:
    """K_ELEMENT, K_SEQUENCE or K_PIXSEQ for an element header; -1 for an illegal undefined length."""
    if vr == 0x5351:
        return K_SEQUENCE
    if vr == 0:       # implicit VR: the dictionary decides
        if length != UNDEF:
            return K_SEQUENCE if in_sorted(sq_tags, tag) else K_ELEMENT
        if tag == PIXEL_DATA:
            return K_PIXSEQ
        if in_sorted(sq_tags, tag) or (tag >> 16) & 1 or known_tags is None \
                or not in_sorted(known_tags, tag):
            return K_SEQUENCE
        return -1
    if length != UNDEF:
        return K_ELEMENT
    if vr == 0x554E:        # a sequence: implicit VR inside under CP-246, else as the stream
        return K_SEQUENCE
    if tag == PIXEL_DATA:
        return K_PIXSEQ
    if obow_as_sequence and (vr == 0x4F42 or vr == 0x4F57):
        return K_SEQUENCE
    return -1


def children(const int64_t[:, ::1] rows, Py_ssize_t first, Py_ssize_t stop):
    """The siblings from row ``first`` up to row ``stop``: a {tag: row} dict, and whether the
    tags come in ascending order."""
    cdef Py_ssize_t i = first
    cdef int64_t last = -1
    cdef bint ascending = True
    out = {}
    while i < stop:
        if rows[i, 0] <= last:
            ascending = False
        last = rows[i, 0]
        out[last] = i
        i = rows[i, 5]
    return out, ascending


def find_row(const int64_t[:, ::1] rows, Py_ssize_t first, Py_ssize_t stop, int64_t tag):
    """Row of ``tag`` among the siblings from ``first`` to ``stop``, or -1."""
    cdef Py_ssize_t i = first
    while i < stop:
        if rows[i, 0] == tag:
            return i
        i = rows[i, 5]
    return -1
