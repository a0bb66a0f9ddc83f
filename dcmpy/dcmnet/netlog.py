"""The logger interface of the network library.

Anything with ``trace/debug/info/warn/error/fatal(msg, *args)`` and ``enabled(level)`` will do:
the apps pass their DCMTK-style logger (``I: ...`` lines on stderr); library users get
:class:`NullLog` unless they pass one (:class:`PythonLog` forwards to ``logging``).
"""
from __future__ import annotations

TRACE, DEBUG, INFO, WARN, ERROR, FATAL = range(6)


class NullLog:
    """Says nothing."""

    def enabled(self, level: int) -> bool:
        return False

    def _nothing(self, msg: str, *args: object) -> None:
        pass

    trace = debug = info = warn = error = fatal = _nothing


class PythonLog:
    """Forwards to the ``logging`` logger ``dcmpy.dcmnet``."""

    def __init__(self, name: str = "dcmpy.dcmnet") -> None:
        import logging
        self._log = logging.getLogger(name)
        self._levels = {TRACE: 5, DEBUG: logging.DEBUG, INFO: logging.INFO,
                        WARN: logging.WARNING, ERROR: logging.ERROR, FATAL: logging.CRITICAL}

    def enabled(self, level: int) -> bool:
        return self._log.isEnabledFor(self._levels[level])

    def trace(self, msg: str, *args: object) -> None:
        self._log.log(5, msg, *args)

    def debug(self, msg: str, *args: object) -> None:
        self._log.debug(msg, *args)

    def info(self, msg: str, *args: object) -> None:
        self._log.info(msg, *args)

    def warn(self, msg: str, *args: object) -> None:
        self._log.warning(msg, *args)

    def error(self, msg: str, *args: object) -> None:
        self._log.error(msg, *args)

    def fatal(self, msg: str, *args: object) -> None:
        self._log.critical(msg, *args)


NULL = NullLog()
