"""Library warnings: to Python's ``logging`` by default, or to a sink an application installs.

The apps install their DCMTK-style logger as the sink (``W: ...`` lines on stderr), so that
importing ``logging`` (about 10 ms) is not part of every tool's start-up.
"""
from __future__ import annotations

from typing import Callable

_sink: Callable[[str], None] | None = None


def set_sink(sink: Callable[[str], None] | None) -> None:
    """Send library warnings to ``sink`` (None: back to Python's logging)."""
    global _sink
    _sink = sink


def warn(name: str, message: str, *args: object) -> None:
    """A warning from module ``name``; %-style ``args`` are applied only if it is shown."""
    if _sink is not None:
        _sink(message % args if args else message)
        return
    import logging
    logging.getLogger(name).warning(message, *args)
