"""Tags as plain ints, ``(group << 16) | element``, and their text forms."""
from __future__ import annotations

import re

ITEM = 0xFFFEE000
ITEM_DELIMITATION = 0xFFFEE00D
SEQUENCE_DELIMITATION = 0xFFFEE0DD
PIXEL_DATA = 0x7FE00010
SPECIFIC_CHARACTER_SET = 0x00080005
TRANSFER_SYNTAX_UID = 0x00020010

_TAG_TEXT = re.compile(r"^\(?\s*([0-9A-Fa-f]{1,4})\s*,\s*([0-9A-Fa-f]{1,4})\s*\)?$")


def tag_str(tag: int) -> str:
    """``0x00100010`` -> ``'(0010,0010)'`` (lower-case hex, as DCMTK prints)."""
    return f"({tag >> 16:04x},{tag & 0xFFFF:04x})"


def parse_tag(text: str) -> int | None:
    """``'(0010,0010)'``, ``'0010,0010'`` or a dictionary name -> tag; None if neither."""
    m = _TAG_TEXT.match(text.strip())
    if m:
        return (int(m.group(1), 16) << 16) | int(m.group(2), 16)
    from .dictionary import get_dictionary
    return get_dictionary().tag_for_name(text.strip())


def is_private(tag: int) -> bool:
    return bool((tag >> 16) & 1)


def private_creator_tag(tag: int) -> int:
    """The (gggg,00xx) element that reserves the block of private tag (gggg,xxee)."""
    return (tag & 0xFFFF0000) | ((tag >> 8) & 0xFF)
