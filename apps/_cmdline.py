"""DCMTK's command line for the dcmpy apps (OFCommandLine / OFConsoleApplication / OFLog).

Installed as ``dcmpy.apps._cmdline``. It imports nothing beyond ``os`` and ``sys`` at start-up,
so an app that uses it starts as fast as Python does.

An app declares its parameters and options in help order, then parses::

    app = App("dcmdump", "Dump DICOM file and data set", columns=(3, 21))
    app.param("dcmfile-in", "DICOM input file or directory to be dumped", multiple=True)
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)",
               dest="read_mode", const="auto", default="auto")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    app.option("+R", "--max-read-length", "set threshold for long values to k kbytes",
               value="[k]bytes: integer (4..4194302, default: 4)", type=Int(4, 4194302), default=4)
    opts = app.parse()          # exits 0 after --help/--version, 1 on a syntax error

Options apply left to right, so the rightmost of conflicting options wins. ``-h --version
--arguments -q -v -d -ll -lc`` come with every app (``standard_options=False`` drops them).
"""
from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

DCMPY_VERSION = "0.1.0"
DCMPY_RELEASE_DATE = "2026-11-22"

# Exit codes: DCMTK's ofexit.h and the per-tool definitions in dcmnet.
EXITCODE_NO_ERROR = 0
EXITCODE_COMMANDLINE_SYNTAX_ERROR = 1
EXITCODE_INSUFFICIENT_PRIVILEGES = 2
EXITCODE_SETUID_FAILED = 3
EXITCODE_CANNOT_READ_INPUT_FILE = 20
EXITCODE_NO_INPUT_FILES = 21
EXITCODE_INVALID_INPUT_FILE = 22
EXITCODE_NO_VALID_INPUT_FILES = 23
EXITCODE_INVALID_INPUT_DIRECTORY = 25
EXITCODE_CANNOT_WRITE_OUTPUT_FILE = 40
EXITCODE_CANNOT_WRITE_REPORT_FILE = 43
EXITCODE_INVALID_OUTPUT_DIRECTORY = 45
EXITCODE_CANNOT_INITIALIZE_NETWORK = 60
EXITCODE_CANNOT_NEGOTIATE_ASSOCIATION = 61
EXITCODE_CANNOT_SEND_REQUEST = 62
EXITCODE_CANNOT_START_SCP_AND_LISTEN = 64
EXITCODE_CANNOT_ADD_PRESENTATION_CONTEXT = 65
EXITCODE_CANNOT_CREATE_ASSOC_PARAMETERS = 65
EXITCODE_NO_PRESENTATION_CONTEXT = 66
EXITCODE_INVALID_ASSOCIATION_CONFIG = 66
EXITCODE_CANNOT_CLOSE_ASSOCIATION = 67
EXITCODE_CMOVE_WARNING = 68
EXITCODE_CMOVE_ERROR = 69
EXITCODE_ASSOCIATION_ABORTED = 70
EXITCODE_CANNOT_CREATE_TRANSPORT_LAYER = 71
# dcmpy's own: an uncaught exception (a bug), Ctrl-C, and a reader that closed our stdout.
EXITCODE_INTERNAL_ERROR = 99
EXITCODE_INTERRUPTED = 130
EXITCODE_BROKEN_PIPE = 141

# ---------------------------------------------------------------------------------------------
# Logger

TRACE, DEBUG, INFO, WARN, ERROR, FATAL, OFF = range(7)
LOG_LEVELS = {"trace": TRACE, "debug": DEBUG, "info": INFO, "warn": WARN,
              "error": ERROR, "fatal": FATAL, "off": OFF, "all": TRACE}


def _emit(prefix: str, msg: str, args: tuple[object, ...]) -> None:
    if args:
        msg = msg % args
    sys.stderr.write(prefix + msg.replace("\n", "\n" + prefix) + "\n")


class Logger:
    """DCMTK's console log: ``X: message`` on stderr, every line prefixed, filtered by level.

    Arguments are %-formatted only when the level lets the message through.
    """

    __slots__ = ("level",)

    def __init__(self, level: int = WARN) -> None:
        self.level = level

    def enabled(self, level: int) -> bool:
        """True if messages of ``level`` are printed."""
        return self.level <= level

    def trace(self, msg: str, *args: object) -> None:
        if self.level <= TRACE:
            _emit("T: ", msg, args)

    def debug(self, msg: str, *args: object) -> None:
        if self.level <= DEBUG:
            _emit("D: ", msg, args)

    def info(self, msg: str, *args: object) -> None:
        if self.level <= INFO:
            _emit("I: ", msg, args)

    def warn(self, msg: str, *args: object) -> None:
        if self.level <= WARN:
            _emit("W: ", msg, args)

    def error(self, msg: str, *args: object) -> None:
        if self.level <= ERROR:
            _emit("E: ", msg, args)

    def fatal(self, msg: str, *args: object) -> None:
        if self.level <= FATAL:
            _emit("F: ", msg, args)


log = Logger()
"""The process-wide logger; ``App.parse`` sets its level from -q/-v/-d/-ll."""

# ---------------------------------------------------------------------------------------------
# Value types: callables str -> value raising ValueError(detail); the detail goes in parentheses
# after "Invalid value for option --x" (DCMTK prints the raw value, or "underflow: <value>").


def _check_range(value: float, text: str, lo: float | None, hi: float | None,
                 lo_open: bool = False) -> None:
    if lo is not None and (value <= lo if lo_open else value < lo):
        raise ValueError("underflow: " + text)
    if hi is not None and value > hi:
        raise ValueError("overflow: " + text)


class Int:
    """Integer in [lo, hi], read as C's sscanf does: leading digits count, the rest is ignored.

    Unsigned (DCMTK's OFCmdUnsignedInt) unless ``signed``: then a minus sign is invalid.
    """

    __slots__ = ("lo", "hi", "signed")

    def __init__(self, lo: int | None = None, hi: int | None = None, *, signed: bool = False) -> None:
        self.lo, self.hi, self.signed = lo, hi, signed

    def __call__(self, text: str) -> int:
        s = text.lstrip()
        start = end = 1 if s[:1] in ("+", "-") else 0
        while end < len(s) and s[end] in "0123456789":
            end += 1
        if end == start or (s[0] == "-" and not self.signed):
            raise ValueError(text)
        value = int(s[:end])
        _check_range(value, text, self.lo, self.hi)
        return value


class Float:
    """Float in [lo, hi] (``lo_open``: lo itself excluded), read as C's strtod: longest numeric prefix."""

    __slots__ = ("lo", "hi", "lo_open")

    def __init__(self, lo: float | None = None, hi: float | None = None, *, lo_open: bool = False) -> None:
        self.lo, self.hi, self.lo_open = lo, hi, lo_open

    def __call__(self, text: str) -> float:
        s = text.lstrip()
        end = 0
        while end < len(s) and s[end] in "+-.0123456789eE":
            end += 1
        for stop in range(end, 0, -1):
            try:
                value = float(s[:stop])
            except ValueError:
                continue
            _check_range(value, text, self.lo, self.hi, self.lo_open)
            return value
        raise ValueError(text)


# ---------------------------------------------------------------------------------------------
# Declarations


class Option:
    """One option: short and long form, help lines, how many values and what it stores."""

    __slots__ = ("short", "long", "help", "value", "nargs", "type", "dest", "const", "append",
                 "sets", "exclusive")

    def __init__(self, short: str, long: str, help: str, value: str, nargs: int,
                 type: Callable[[str], object] | tuple[Callable[[str], object], ...], dest: str,
                 const: object, append: bool, sets: dict[str, object] | None, exclusive: bool) -> None:
        self.short, self.long, self.help, self.value, self.nargs = short, long, help, value, nargs
        self.type, self.dest, self.const, self.append = type, dest, const, append
        self.sets, self.exclusive = sets, exclusive

    def convert(self, texts: list[str]) -> object:
        """Typed value(s) of one occurrence: one value, or a tuple when nargs > 1."""
        types = self.type if isinstance(self.type, tuple) else (self.type,) * self.nargs
        values = tuple(conv(text) for conv, text in zip(types, texts))
        return values[0] if self.nargs == 1 else values


class Param:
    """A positional parameter; ``multiple`` takes one or more (zero or more if ``optional``)."""

    __slots__ = ("name", "help", "optional", "multiple", "dest")

    def __init__(self, name: str, help: str, optional: bool, multiple: bool) -> None:
        self.name, self.help, self.optional, self.multiple = name, help, optional, multiple
        self.dest = name.replace("-", "_")

    @property
    def usage(self) -> str:
        text = self.name + ("..." if self.multiple else "")
        return f"[{text}]" if self.optional else text


class Options:
    """The parsed command line: one attribute per option dest and per parameter."""

    def __init__(self, values: dict[str, object], given: set[str], argv: list[str]) -> None:
        self.__dict__.update(values)
        self._given = given
        self._argv = argv

    def given(self, long: str) -> bool:
        """True if the option (by its long name) was on the command line."""
        return long in self._given

    @property
    def argv(self) -> list[str]:
        """The arguments after @file expansion."""
        return self._argv

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if not k.startswith("_"))
        return f"Options({fields})"


def split_command_file(text: str) -> list[str]:
    """Words of an @file: whitespace separates, '...' and "..." group (no escapes, "" vanishes)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                word.append(ch)
        elif ch == '"' or ch == "'":
            quote = ch
        elif ch.isspace():
            if word:
                words.append("".join(word))
                word = []
        else:
            word.append(ch)
    if word:
        words.append("".join(word))
    return words


class App:
    """A DCMTK console application: declarations, help, parsing, error exits.

    ``columns`` is DCMTK's (SHORTCOL, LONGCOL): the minimum widths of the short and long option
    columns; each group or subgroup widens them to fit its own options. Parameters' help starts
    after ``param_column`` (default SHORTCOL + LONGCOL + 4, as the DCMTK tools set it); the
    general options use ``general_columns`` (default SHORTCOL + 2, LONGCOL, as most tools)
    under ``general_heading`` (a few tools, e.g. dcmqridx, print them under "options:").
    """

    def __init__(self, name: str, description: str, *, columns: tuple[int, int] = (0, 0),
                 param_column: int | None = None, general_columns: tuple[int, int] | None = None,
                 version: str = DCMPY_VERSION, date: str = DCMPY_RELEASE_DATE,
                 help_if_no_args: bool = True, standard_options: bool = True,
                 libraries: Callable[[], Sequence[str]] | None = None,
                 general_heading: str = "general options:") -> None:
        self.name, self.description, self.version, self.date = name, description, version, date
        self.columns = columns
        self.param_column = sum(columns) + 4 if param_column is None else param_column
        self.help_if_no_args = help_if_no_args
        self.libraries = libraries
        self.quiet = False
        self._params: list[Param] = []
        self._options: dict[str, Option] = {}
        self._layout: list[Option | tuple[int, str, tuple[int, int]]] = []
        self._defaults: dict[str, object] = {}
        if standard_options:
            self.group(general_heading, general_columns or (columns[0] + 2, columns[1]))
            self.option("-h", "--help", "print this help text and exit", dest="", exclusive=True)
            self.option("", "--version", "print version information and exit", dest="", exclusive=True)
            self.option("", "--arguments", "print expanded command line arguments", dest="")
            self.option("-q", "--quiet", "quiet mode, print no warnings and errors", dest="")
            self.option("-v", "--verbose", "verbose mode, print processing details", dest="")
            self.option("-d", "--debug", "debug mode, print debug information", dest="")
            self.option("-ll", "--log-level", "(fatal, error, warn, info, debug, trace)\n"
                        "use level l for the logger", value="[l]evel: string constant", dest="")
            self.option("-lc", "--log-config", "use config file f for the logger",
                        value="[f]ilename: string", dest="")

    # -- declaring ------------------------------------------------------------------------------

    def param(self, name: str, help: str = "", *, optional: bool = False, multiple: bool = False) -> None:
        """Add a parameter; its value lands in ``opts.<name with _ for ->`` (a list if multiple).

        A parameter without help is left out of the 'parameters:' list.
        """
        self._params.append(Param(name, help, optional, multiple))

    def group(self, heading: str, columns: tuple[int, int] | None = None) -> None:
        """Start an option group; ``heading`` is printed as given (DCMTK's include the colon)."""
        self._layout.append((0, heading, columns or self.columns))

    def subgroup(self, heading: str, columns: tuple[int, int] | None = None) -> None:
        """Start a subgroup of the current group (printed indented by two)."""
        self._layout.append((1, heading, columns or self.columns))

    def option(self, short: str, long: str, help: str, *, value: str = "", nargs: int | None = None,
               type: Callable[[str], object] | tuple[Callable[[str], object], ...] = str,
               dest: str | None = None, const: object = True, default: object = None,
               append: bool = False, sets: dict[str, object] | None = None,
               exclusive: bool = False) -> None:
        """Add an option to the current (sub)group.

        Without ``value`` it is a flag storing ``const`` in ``dest``; with ``value`` (the value
        description printed in the help, e.g. ``"[k]bytes: integer (4..4194302, default: 4)"``)
        it takes ``nargs`` (default 1) arguments converted by ``type`` (one callable, or one per
        value) and stores the value, or a tuple of them. ``append`` collects every occurrence in
        a list. ``dest`` defaults to the long name without dashes, ``-`` made ``_``; ``dest=""``
        stores nothing (see ``Options.given``). ``sets`` are further dest values the option
        assigns; ``exclusive`` options suspend the parameter count check (like --help).
        A dest's default is None (False for plain ``const=True`` flags, [] for ``append``).
        """
        nargs = (1 if value else 0) if nargs is None else nargs
        if dest is None:
            dest = long.lstrip("-").replace("-", "_")
        opt = Option(short, long, help, value, nargs, type, dest, const, append, sets, exclusive)
        for key in (short, long):
            if key in self._options:
                raise ValueError(f"{self.name}: option {key} declared twice")
            if key:
                self._options[key] = opt
        self._layout.append(opt)
        if default is None and not nargs and const is True:
            default = False
        if dest and (default is not None or dest not in self._defaults):
            self._defaults[dest] = default
        for key in sets or ():
            self._defaults.setdefault(key, None)

    # -- output ---------------------------------------------------------------------------------

    def header(self) -> str:
        """The banner DCMTK prints above help, version and errors."""
        return f"$dcmpy: {self.name} v{self.version} {self.date} $\n\n{self.name}: {self.description}\n"

    def format_help(self) -> str:
        """The --help text, laid out column for column as DCMTK's."""
        usage = f"usage: {self.name}" + (" [options]" if self._options else "")
        lines = [self.header() + usage + "".join(" " + p.usage for p in self._params), ""]
        listed = [p for p in self._params if p.help]
        if listed:
            lines.append("parameters:")
            for p in listed:
                first, *rest = p.help.split("\n")
                lines.append("  " + p.name.ljust(self.param_column) + "  " + first)
                lines.extend(" " * (self.param_column + 4) + r for r in rest)
            lines.append("")
        block: list[Option] = []
        level, heading, columns = 0, "", self.columns
        for entry in [*self._layout, (0, "", self.columns)]:
            if isinstance(entry, Option):
                block.append(entry)
                continue
            if heading or block:
                lines.extend(self._format_block(level, heading, columns, block))
            (level, heading, columns), block = entry, []
        if self._layout:
            lines.append("")
        return "\n".join(lines) + "\n"

    @staticmethod
    def _format_block(level: int, heading: str, columns: tuple[int, int], block: list[Option]) -> list[str]:
        indent = "    " if level else "  "
        short_w = max([columns[0], *(len(o.short) for o in block)])
        long_w = max([columns[1], *(len(o.long) for o in block)])
        margin = " " * (len(indent) + short_w + long_w + 4)
        lines = [indent[2:] + heading] if heading else []
        for o in block:
            first, *rest = "\n".join(t for t in (o.value, o.help) if t).split("\n")
            lines.append(f"{indent}{o.short.ljust(short_w)}  {o.long.ljust(long_w)}  {first}")
            lines.extend(margin + r for r in rest)
        return lines

    def format_version(self) -> str:
        """The --version text: banner, host, Python and the app's libraries."""
        machine = os.uname().machine if hasattr(os, "uname") else ""
        impl = sys.implementation.name
        text = (self.header() + f"\nHost type: {sys.platform}" + (f" ({machine})" if machine else "")
                + f"\nCharacter encoding: {sys.getfilesystemencoding()}"
                + f"\nPython: {impl} {'.'.join(map(str, sys.version_info[:3]))}\n"
                + "\nExternal libraries used:")
        libs = list(self.libraries()) if self.libraries else []
        return text + ("".join(f"\n- {lib}" for lib in libs) if libs else " none") + "\n"

    def error(self, message: str, code: int = EXITCODE_COMMANDLINE_SYNTAX_ERROR) -> NoReturn:
        """Print banner and ``error: message`` to stderr (not in quiet mode) and exit with code."""
        if not self.quiet:
            sys.stderr.write(f"{self.header()}error: {message}\n")
        sys.exit(code)

    def check_dependence(self, option: str, required: str, ok: bool) -> None:
        """Exit with DCMTK's '<option> only allowed with <required>' unless ``ok``."""
        if not ok:
            self.error(f"{option} only allowed with {required}")

    def check_conflict(self, option: str, other: str, conflict: bool) -> None:
        """Exit with DCMTK's '<option> not allowed with <other>' if ``conflict``."""
        if conflict:
            self.error(f"{option} not allowed with {other}")

    # -- parsing --------------------------------------------------------------------------------

    def parse(self, argv: Sequence[str] | None = None) -> Options:
        """Parse ``argv`` (default ``sys.argv[1:]``) in DCMTK's order of checks.

        Exits 0 after printing help (also for no arguments, if ``help_if_no_args``) or the
        version, and 1 with DCMTK's message on a syntax error. Sets ``log.level``.
        """
        prog = sys.argv[0] if argv is None else self.name
        raw = sys.argv[1:] if argv is None else list(argv)
        self.quiet = False
        if not raw and self.help_if_no_args:
            self._exit(self.format_help())
        args = self._expand(raw)
        found: list[tuple[Option, list[str]]] = []
        params: list[str] = []
        shown: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if len(arg) < 2 or arg[0] not in "+-" or arg[1] in "0123456789":
                params.append(arg)
                shown.append(arg)
                continue
            opt = self._options.get(arg)
            if opt is None:
                self.error(f"Unknown option {arg}")
            if i + opt.nargs > len(args):
                self.error(f"Missing value for option {opt.long}")
            found.append((opt, args[i:i + opt.nargs]))
            shown += [opt.long, *args[i:i + opt.nargs]]
            i += opt.nargs
        given = {opt.long for opt, _ in found}
        if "--help" in given:
            self._exit(self.format_help())
        if "--version" in given:
            self._exit(self.format_version())
        values = self._assign_params(params, strict=not any(opt.exclusive for opt, _ in found))
        if "--log-level" in self._options:
            self._configure_log(found)
        if "--arguments" in given:
            sys.stderr.write(f"I: calling '{prog}' with {len(shown)} arguments: "
                             + "".join(f"'{a}' " for a in shown) + "\nI: \n")
        values.update(self._apply(found))
        return Options(values, given, args)

    def _exit(self, text: str) -> NoReturn:
        sys.stdout.write(text)
        sys.exit(EXITCODE_NO_ERROR)

    def _expand(self, args: list[str]) -> list[str]:
        out: list[str] = []
        for arg in args:
            if len(arg) > 1 and arg[0] == "@":
                try:
                    with open(arg[1:], "rb") as f:
                        out += split_command_file(os.fsdecode(f.read()))
                except OSError:
                    self.error(f"Cannot open command file '{arg[1:]}'")
            else:
                out.append(arg)
        return out

    def _assign_params(self, args: list[str], strict: bool) -> dict[str, object]:
        spare = len(args)
        for p in self._params:
            spare -= 0 if p.optional else 1
            if spare < 0 and strict:
                self.error(f"Missing parameter {p.name}")
        values: dict[str, object] = {}
        pos = 0
        for p in self._params:
            take = 0 if p.optional else 1
            extra = max(0, spare if p.multiple else min(spare, 1 - take))
            take, spare = take + extra, spare - extra
            chunk, pos = args[pos:pos + take], pos + take
            values[p.dest] = chunk if p.multiple else (chunk[0] if chunk else None)
        if spare > 0 and strict:
            self.error("Too many parameters")
        return values

    def _configure_log(self, found: list[tuple[Option, list[str]]]) -> None:
        verbosity = {"--quiet": FATAL, "--verbose": INFO, "--debug": DEBUG}
        level = WARN
        chosen = [verbosity[o.long] for o, _ in found if o.long in verbosity]
        ll = [v[0] for o, v in found if o.long == "--log-level"]
        lc = [v[0] for o, v in found if o.long == "--log-config"]
        if ll:
            if chosen:
                self.error("--log-level not allowed with --verbose, --debug or --quiet")
            if ll[-1].lower() not in LOG_LEVELS:
                self.error("Invalid log level for --log-level option")
            level = LOG_LEVELS[ll[-1].lower()]
        elif chosen:
            level = chosen[-1]
        if lc:
            if chosen:
                self.error("--log-config not allowed with --verbose, --debug or --quiet")
            if ll:
                self.error("--log-config not allowed with --log-level")
            if not os.path.isfile(lc[-1]):
                self.error("Specified --log-config file does not exist")
        log.level = level
        self.quiet = level >= FATAL

    def _apply(self, found: list[tuple[Option, list[str]]]) -> dict[str, object]:
        values = dict(self._defaults)
        for opt in self._layout:
            if isinstance(opt, Option) and opt.append and opt.dest:
                values[opt.dest] = list(values[opt.dest] or ())  # type: ignore[call-overload]
        last = {opt: n for n, (opt, _) in enumerate(found)}
        for n, (opt, texts) in enumerate(found):
            if opt.dest and not opt.nargs and opt.append:  # a flag in an ordered list
                values[opt.dest].append(opt.const)  # type: ignore[attr-defined]
            elif opt.dest and not opt.nargs:
                values[opt.dest] = opt.const
            elif opt.dest and (opt.append or last[opt] == n):  # DCMTK checks the last one only
                try:
                    value = opt.convert(texts)
                except ValueError as exc:
                    detail = str(exc)
                    self.error(f"Invalid value for option {opt.long}" + (f" ({detail})" if detail else ""))
                if opt.append:
                    values[opt.dest].append(value)  # type: ignore[attr-defined]
                else:
                    values[opt.dest] = value
            if opt.sets:
                values.update(opt.sets)
        return values


# ---------------------------------------------------------------------------------------------
# Running a tool


def _drop_stdout() -> None:
    """Point stdout at the null device, so that exiting does not fail on a closed pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def run(main: Callable[..., int | None], *args: object, name: str | None = None) -> NoReturn:
    """Call ``main(*args)`` and exit with its return code (None means 0); never show a traceback.

    Ctrl-C exits 130 quietly, a closed stdout pipe 141, and any other exception prints
    ``F: <name>: internal error: <type>: <message>`` (the traceback too with -d) and exits 99.
    """
    try:
        from dcmpy import _diag       # library warnings become W: lines
        _diag.set_sink(log.warn)
    except ImportError:
        pass
    try:
        code = main(*args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = EXITCODE_INTERRUPTED
    except BrokenPipeError:
        _drop_stdout()
        code = EXITCODE_BROKEN_PIPE
    except Exception as exc:
        tool = name or os.path.basename(sys.argv[0]) or "dcmpy"
        text = " ".join(str(exc).split())
        log.fatal("%s: internal error: %s", tool, f"{type(exc).__name__}: {text}" if text else type(exc).__name__)
        if log.level <= DEBUG:
            import traceback
            traceback.print_exc()
        code = EXITCODE_INTERNAL_ERROR
    sys.exit(code or EXITCODE_NO_ERROR)
