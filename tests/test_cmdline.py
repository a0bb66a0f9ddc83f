"""Tests for the DCMTK-style command-line layer (dcmpy.apps._cmdline).

Installed it is ``dcmpy.apps._cmdline``; from a source tree run with PYTHONPATH=<repo> and it is
found as ``apps._cmdline``. Where DCMTK's own tools are installed, help text and error messages
are compared with theirs.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    cl = importlib.import_module("dcmpy.apps._cmdline")
except ImportError:
    cl = importlib.import_module("apps._cmdline")

# DCMTK's tools, by absolute path: ours are installed under the same names in the venv, and
# `make test` installs DCMTK, so these comparisons always run
DCMTK = "/usr/bin/"


@pytest.fixture(autouse=True)
def _reset_log():
    cl.log.level = cl.WARN
    yield
    cl.log.level = cl.WARN


def dcmdump_like(**kw) -> cl.App:
    """A slice of dcmdump's declarations (same columns and first groups)."""
    app = cl.App("dcmdump", "Dump DICOM file and data set", columns=(3, 21), **kw)
    app.param("dcmfile-in", "DICOM input file or directory to be dumped", multiple=True)
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)",
               dest="read_mode", const="auto", default="auto")
    app.option("+fo", "--read-file-only", "read file format only", dest="read_mode", const="file")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    app.subgroup("input transfer syntax:")
    app.option("-t=", "--read-xfer-auto", "use TS recognition (default)", dest="xfer", const="auto")
    app.option("-td", "--read-xfer-detect", "ignore TS specified in the file meta header",
               dest="xfer", const="detect")
    app.option("-te", "--read-xfer-little", "read with explicit VR little endian TS",
               dest="xfer", const="little")
    app.option("-tb", "--read-xfer-big", "read with explicit VR big endian TS", dest="xfer", const="big")
    app.option("-ti", "--read-xfer-implicit", "read with implicit VR little endian TS",
               dest="xfer", const="implicit")
    app.subgroup("long tag values:")
    app.option("+M", "--load-all", "load very long tag values (default)", dest="load_all", default=True)
    app.option("-M", "--load-short", "do not load very long values (e.g. pixel data)",
               dest="load_all", const=False)
    app.option("+R", "--max-read-length", "set threshold for long values to k kbytes",
               value="[k]bytes: integer (4..4194302, default: 4)", type=cl.Int(4, 4194302), default=4)
    app.group("output options:")
    app.subgroup("printing:")
    app.option("+L", "--print-all", "print long tag values completely", dest="print_all")
    app.option("-L", "--print-short", "print long tag values shortened (default)",
               dest="print_all", const=False)
    app.option("+Fs", "--print-file-search", "print header with filename only for those input\n"
               "files that contain one of the searched tags", sets={"print_filename": True})
    app.subgroup("searching:")
    app.option("+P", "--search", "print the textual dump of tag t\nthis option can be specified "
               "multiple times\n(default: the complete file is printed)",
               value='[t]ag: "gggg,eeee" or dictionary name', append=True)
    app.option("+W", "--write-pixel", "write pixel data to a .raw file stored in d",
               value="[d]irectory: string")
    app.subgroup("windowing:")
    app.option("+Ww", "--set-window", "compute VOI window using center c and width w",
               value="[c]enter [w]idth: float", nargs=2, type=cl.Float())
    app.option("+Sxf", "--scale-x-factor", "scale x axis by factor",
               value="[f]actor: float", type=cl.Float(0.0, lo_open=True))
    return app


def parse_exit(app: cl.App, argv: list[str], capsys) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        app.parse(argv)
    out, err = capsys.readouterr()
    return info.value.code, out, err


def real(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([DCMTK + tool, *args], capture_output=True, text=True, timeout=20,
                          stdin=subprocess.DEVNULL)


# --- help ------------------------------------------------------------------------------------


def test_help_layout(capsys):
    code, out, err = parse_exit(dcmdump_like(), ["--help"], capsys)
    assert code == 0 and err == ""
    lines = out.split("\n")
    assert lines[0] == f"$dcmpy: dcmdump v{cl.DCMPY_VERSION} {cl.DCMPY_RELEASE_DATE} $"
    assert lines[1:6] == ["", "dcmdump: Dump DICOM file and data set",
                          "usage: dcmdump [options] dcmfile-in...", "", "parameters:"]
    assert lines[6] == "  dcmfile-in" + " " * 20 + "DICOM input file or directory to be dumped"
    assert "  -h     --help                 print this help text and exit" in lines
    assert "         --version              print version information and exit" in lines
    i = lines.index("  -ll    --log-level            [l]evel: string constant")
    assert lines[i + 1:i + 3] == [" " * 32 + "(fatal, error, warn, info, debug, trace)",
                                  " " * 32 + "use level l for the logger"]
    assert "input options:" in lines and "  input file format:" in lines
    assert "    +R   --max-read-length      [k]bytes: integer (4..4194302, default: 4)" in lines
    assert out.endswith("(default: the complete file is printed)\n" + " " * 4 + "+W   --write-pixel"
                        "          [d]irectory: string\n" + " " * 32
                        + "write pixel data to a .raw file stored in d\n  windowing:\n"
                        + "    +Ww   --set-window           [c]enter [w]idth: float\n" + " " * 33
                        + "compute VOI window using center c and width w\n"
                        + "    +Sxf  --scale-x-factor       [f]actor: float\n" + " " * 33
                        + "scale x axis by factor\n\n")  # a 4-character short option widens its block


def test_help_matches_dcmdump():
    ours = dcmdump_like().format_help().split("\n")
    theirs = real("dcmdump", "--help").stdout.split("\n")
    assert ours[0].startswith("$dcmpy: dcmdump") and theirs[0].startswith("$dcmtk: dcmdump")
    # same text up to the end of "input transfer syntax:" (our slice stops there)
    n = ours.index("  long tag values:")
    assert ours[1:n] == theirs[1:n]
    for line in ("    +R   --max-read-length      [k]bytes: integer (4..4194302, default: 4)",
                 "    +Fs  --print-file-search    print header with filename only for those input",
                 "    +P   --search               [t]ag: \"gggg,eeee\" or dictionary name"):
        assert line in ours and line in theirs


def test_help_matches_dcmprscp_exactly():
    app = dcmprscp_like()
    theirs = real("dcmprscp", "--help").stdout
    assert app.format_help().split("\n")[1:] == theirs.split("\n")[1:]


def dcmprscp_like() -> cl.App:
    app = cl.App("dcmprscp", "DICOM basic grayscale print management SCP", columns=(3, 12),
                 general_columns=(3, 12), help_if_no_args=False)
    app.option("-l", "--logfile", "write a log file (not with --log-config)")
    app.group("processing options:")
    app.option("-c", "--config", "process using settings from configuration file",
               value="[f]ilename: string")
    app.option("-p", "--printer", "select printer with identifier n from config file",
               value="[n]ame: string (default: 1st printer in config file)")
    app.option("+d", "--dump", "dump all DIMSE messages")
    return app


def test_subgroup_widens_its_own_columns():
    """storescu: one subgroup with a 22-character long option is wider, the next is not."""
    app = cl.App("storescu", "DICOM storage (C-STORE) SCU", columns=(4, 19))
    app.param("peer", "hostname of DICOM peer")
    app.group("network options:")
    app.subgroup("proposed transmission transfer syntaxes (not with --config-file):")
    app.option("-x=", "--propose-uncompr", "propose all uncompressed TS, explicit VR\n"
               "with local byte ordering first (default)", dest="ts", const="uncompr")
    app.option("-xv", "--propose-j2k-lossless", "propose JPEG 2000 lossless TS\n"
               "and all uncompressed transfer syntaxes", dest="ts", const="j2k")
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)")
    expected = [
        "  proposed transmission transfer syntaxes (not with --config-file):",
        "    -x=   --propose-uncompr       propose all uncompressed TS, explicit VR",
        "                                  with local byte ordering first (default)",
        "    -xv   --propose-j2k-lossless  propose JPEG 2000 lossless TS",
        "                                  and all uncompressed transfer syntaxes",
        "  post-1993 value representations:",
        "    +u    --enable-new-vr      enable support for new VRs (UN/UT) (default)",
    ]
    lines = app.format_help().split("\n")
    assert "  peer                         hostname of DICOM peer" in lines
    assert "  -h      --help               print this help text and exit" in lines
    i = lines.index(expected[0])
    assert lines[i:i + len(expected)] == expected
    theirs = real("storescu", "--help").stdout.split("\n")
    for line in expected:
        assert line in theirs


def test_usage_forms_and_no_options(capsys):
    app = cl.App("img2dcm", "Convert standard image formats into DICOM format")
    app.param("imgfile-in", "image input filename", multiple=True)
    app.param("dcmfile-out", "DICOM output filename")
    app.param("extra", "optional one", optional=True)
    app.param("more", "optional many", optional=True, multiple=True)
    assert "usage: img2dcm [options] imgfile-in... dcmfile-out [extra] [more...]\n" in app.format_help()
    bare = cl.App("dcmftest", "Test if file uses DICOM part 10 format", standard_options=False)
    bare.param("file", multiple=True)
    assert bare.format_help().endswith("$\n\ndcmftest: Test if file uses DICOM part 10 format\n"
                                       "usage: dcmftest file...\n\n")
    code, out, err = parse_exit(bare, ["-h"], capsys)
    assert code == 1 and err.endswith("error: Unknown option -h\n")


def test_no_arguments_prints_help(capsys):
    code, out, err = parse_exit(dcmdump_like(), [], capsys)
    assert code == 0 and out.startswith("$dcmpy: dcmdump") and "general options:" in out and err == ""
    # an app that runs without arguments (dcmprscp) parses an empty command line
    assert dcmprscp_like().parse([]).dump is False


def test_help_and_version_precedence(capsys):
    app = dcmdump_like()
    code, out, _ = parse_exit(app, ["-h", "a", "b", "+R", "1"], capsys)  # help before value checks
    assert code == 0 and "usage:" in out
    code, out, _ = parse_exit(app, ["--version", "--help"], capsys)  # help wins
    assert code == 0 and "usage:" in out
    code, out, err = parse_exit(app, ["--help", "--foo"], capsys)  # syntax first
    assert code == 1 and out == "" and err.endswith("error: Unknown option --foo\n")
    code, out, _ = parse_exit(app, ["x", "--version"], capsys)
    assert code == 0 and "usage:" not in out
    assert out.startswith(app.header()) and "Host type: " in out
    assert out.endswith("External libraries used: none\n")
    lib = cl.App("x", "y", libraries=lambda: ["ZLIB, Version 1.2.13"])
    assert lib.format_version().endswith("External libraries used:\n- ZLIB, Version 1.2.13\n")


# --- options ---------------------------------------------------------------------------------


def test_rightmost_wins_and_defaults():
    app = dcmdump_like()
    o = app.parse(["f1"])
    assert (o.read_mode, o.xfer, o.load_all, o.max_read_length, o.print_all) == ("auto", None, True, 4, False)
    assert o.search == [] and o.write_pixel is None and o.print_filename is None
    o = app.parse(["-f", "+fo", "-M", "+M", "-L", "+L", "-td", "-tb", "f1"])
    assert (o.read_mode, o.load_all, o.print_all, o.xfer) == ("file", True, True, "big")
    o = app.parse(["+R", "8", "+R", "16", "f"])
    assert o.max_read_length == 16 and o.given("--max-read-length") and not o.given("--load-all")


def test_repeatable_multi_value_and_sets():
    app = dcmdump_like()
    o = app.parse(["+P", "0010,0010", "f", "+P", "PatientID", "+P", "-L", "+Fs"])
    assert o.search == ["0010,0010", "PatientID", "-L"]  # a value may look like an option
    assert o.print_all is False and o.print_file_search is True and o.print_filename is True
    assert app.parse(["f"]).search == []  # a fresh list each parse
    o = app.parse(["+Ww", "40", "-400.5", "f"])
    assert o.set_window == (40.0, -400.5)


def test_interleaved_parameters():
    app = dcmdump_like()
    o = app.parse(["a", "+L", "b", "-", "+R", "5", "-5", "+5", "c"])
    assert o.dcmfile_in == ["a", "b", "-", "-5", "+5", "c"] and o.max_read_length == 5
    assert o.argv == ["a", "+L", "b", "-", "+R", "5", "-5", "+5", "c"]


def test_parameter_distribution(capsys):
    app = cl.App("img2dcm", "Convert")
    app.param("imgfile-in", "in", multiple=True)
    app.param("dcmfile-out", "out")
    o = app.parse(["a", "b", "c"])
    assert o.imgfile_in == ["a", "b"] and o.dcmfile_out == "c"
    code, _, err = parse_exit(app, ["a"], capsys)
    assert code == 1 and err.endswith("error: Missing parameter dcmfile-out\n")
    conv = cl.App("dcm2json", "Convert")
    conv.param("dcmfile-in", "in")
    conv.param("jsonfile-out", "out", optional=True)
    assert conv.parse(["a"]).jsonfile_out is None and conv.parse(["a", "b"]).jsonfile_out == "b"
    code, _, err = parse_exit(conv, ["a", "b", "c"], capsys)
    assert code == 1 and err.endswith("error: Too many parameters\n")


def test_exclusive_option_skips_parameter_check():
    app = dcmdump_like()
    app.option("+cc", "--list-ciphers", "show list of supported TLS ciphersuites and exit", exclusive=True)
    o = app.parse(["+cc"])
    assert o.list_ciphers is True and o.dcmfile_in == []


@pytest.mark.parametrize("argv, message", [
    (["--foo", "f"], "Unknown option --foo"),
    (["+Rx", "f"], "Unknown option +Rx"),
    (["--", "f"], "Unknown option --"),
    (["-.5"], "Unknown option -.5"),
    (["--max-read-length=8", "f"], "Unknown option --max-read-length=8"),
    (["f", "+R"], "Missing value for option --max-read-length"),
    (["+P"], "Missing value for option --search"),
    (["+Ww", "1"], "Missing value for option --set-window"),
    ([], None),
    (["+L"], "Missing parameter dcmfile-in"),
    (["+R", "x"], "Missing parameter dcmfile-in"),  # the value is not checked before the parameters
    (["+R", "x", "f"], "Invalid value for option --max-read-length (x)"),
    (["+R", "1", "f"], "Invalid value for option --max-read-length (underflow: 1)"),
    (["+R", "5000000", "f"], "Invalid value for option --max-read-length (overflow: 5000000)"),
    (["+R", "-3", "f"], "Invalid value for option --max-read-length (-3)"),
    (["+R", "", "f"], "Invalid value for option --max-read-length"),
    (["+R", "0x10", "f"], "Invalid value for option --max-read-length (underflow: 0x10)"),
    (["+R", "1", "+R", "2", "f"], "Invalid value for option --max-read-length (underflow: 2)"),
    (["+Ww", "x", "1", "f"], "Invalid value for option --set-window (x)"),
    (["+Ww", "1", "a", "f"], "Invalid value for option --set-window (a)"),
    (["+Sxf", "0", "f"], "Invalid value for option --scale-x-factor (underflow: 0)"),
    (["@/nonexistent/args", "f"], "Cannot open command file '/nonexistent/args'"),
    (["-ll", "foo", "f"], "Invalid log level for --log-level option"),
    (["-ll", "warning", "f"], "Invalid log level for --log-level option"),
    (["-q", "-ll", "info", "f"], "--log-level not allowed with --verbose, --debug or --quiet"),
    (["-ll", "info", "-v", "f"], "--log-level not allowed with --verbose, --debug or --quiet"),
    (["-lc", "/nonexistent", "-v", "f"], "--log-config not allowed with --verbose, --debug or --quiet"),
    (["-ll", "info", "-lc", "/nonexistent", "f"], "--log-config not allowed with --log-level"),
    (["-lc", "/nonexistent", "f"], "Specified --log-config file does not exist"),
    (["-lc", "/", "f"], "Specified --log-config file does not exist"),
])
def test_syntax_errors(argv, message, capsys):
    code, out, err = parse_exit(dcmdump_like(), argv, capsys)
    if message is None:  # no arguments at all: help
        assert code == 0 and "usage:" in out
        return
    assert code == cl.EXITCODE_COMMANDLINE_SYNTAX_ERROR == 1 and out == ""
    assert err == dcmdump_like().header() + f"error: {message}\n"
    if "@" not in argv[0] and "+Ww" not in argv and "+Sxf" not in argv:
        theirs = real("dcmdump", *argv)
        assert theirs.returncode == 1 and theirs.stderr.split("\n")[-2] == f"error: {message}"


def test_int_and_float_parsing_like_c():
    i = cl.Int(4, 10)
    assert [i(t) for t in ("4", " 5", "6x", "7.9", "+8")] == [4, 5, 6, 7, 8]
    for text, detail in (("3", "underflow: 3"), ("11", "overflow: 11"), ("-5", "-5"), ("", ""), ("a", "a")):
        with pytest.raises(ValueError) as info:
            i(text)
        assert str(info.value) == detail
    assert cl.Int(-5, 5, signed=True)("-5") == -5
    with pytest.raises(ValueError, match="underflow: -6"):
        cl.Int(-5, 5, signed=True)("-6")
    assert cl.Int()("99999999999999999999") == 99999999999999999999
    f = cl.Float(-1.0, 1e3)
    assert [f(t) for t in ("1.5", ".5x", "1e3", " -1", "2.e1")] == [1.5, 0.5, 1000.0, -1.0, 20.0]
    for text in ("abc", "", "e5", "1_0"):
        if text == "1_0":
            assert f(text) == 1.0  # no Python underscores: strtod stops at '_'
            continue
        with pytest.raises(ValueError):
            f(text)


def test_only_last_occurrence_is_validated():
    assert dcmdump_like().parse(["+R", "1", "+R", "8", "f"]).max_read_length == 8


# --- @file and --arguments ---------------------------------------------------------------------


def test_command_file_expansion(tmp_path, capsys):
    args = tmp_path / "args.txt"
    args.write_text('+R 8\n  "a b"\t\'c d\' -L\n"" x"y z"w @nested.txt\n')
    o = dcmdump_like().parse([f"@{args}", "f", "@"])
    assert o.max_read_length == 8 and o.print_all is False
    assert o.dcmfile_in == ["a b", "c d", "xy zw", "@nested.txt", "f", "@"]
    assert cl.split_command_file("'unterminated x") == ["unterminated x"]
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert dcmdump_like().parse([f"@{empty}", "f"]).dcmfile_in == ["f"]


def test_arguments_option(tmp_path, capsys):
    args = tmp_path / "a.txt"
    args.write_text("+R 8 'a b' -L")
    dcmdump_like().parse(["-q", "--arguments", f"@{args}"])
    out, err = capsys.readouterr()
    assert out == ""
    assert err == ("I: calling 'dcmdump' with 6 arguments: '--quiet' '--arguments' "
                   "'--max-read-length' '8' 'a b' '--print-short' \nI: \n")
    theirs = real("dcmdump", "-q", "--arguments", f"@{args}")
    assert theirs.stderr.replace(DCMTK + "dcmdump", "dcmdump").startswith(err)  # argv[0] as called


def test_arguments_not_printed_on_early_errors(capsys):
    code, _, err = parse_exit(dcmdump_like(), ["--arguments"], capsys)
    assert code == 1 and "calling" not in err
    code, _, err = parse_exit(dcmdump_like(), ["--arguments", "-ll", "foo", "f"], capsys)
    assert code == 1 and "calling" not in err


# --- logging ---------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, level", [
    ([], cl.WARN), (["-q"], cl.FATAL), (["-v"], cl.INFO), (["-d"], cl.DEBUG),
    (["-q", "-v"], cl.INFO), (["-v", "-q"], cl.FATAL), (["-ll", "TRACE"], cl.TRACE),
    (["-ll", "Error"], cl.ERROR), (["-ll", "off"], cl.OFF), (["-ll", "fatal", "-ll", "info"], cl.INFO),
])
def test_log_level_options(argv, level):
    dcmdump_like().parse([*argv, "f"])
    assert cl.log.level == level


def test_log_config_accepted(tmp_path):
    cfg = tmp_path / "logger.cfg"
    cfg.write_text("log4cplus.rootLogger = INFO, console\n")
    dcmdump_like().parse(["-lc", str(tmp_path / "missing"), "-lc", str(cfg), "f"])
    assert cl.log.level == cl.WARN


def test_quiet_mode_silences_later_errors(capsys):
    code, _, err = parse_exit(dcmdump_like(), ["-q", "+R", "1", "f"], capsys)
    assert code == 1 and err == ""
    code, _, err = parse_exit(dcmdump_like(), ["-q", "-d", "+R", "1", "f"], capsys)
    assert code == 1 and "underflow" in err
    code, _, err = parse_exit(dcmdump_like(), ["-q", "--foo", "f"], capsys)  # syntax: still shown
    assert code == 1 and "Unknown option --foo" in err
    app = dcmdump_like()
    o = app.parse(["+W", "d", "f"])
    with pytest.raises(SystemExit) as info:
        app.check_dependence("--write-pixel", "--print-all", o.print_all)
    assert info.value.code == 1
    assert capsys.readouterr().err.endswith("error: --write-pixel only allowed with --print-all\n")
    with pytest.raises(SystemExit):
        app.check_conflict("--read-dataset", "--read-file-only", True)
    assert capsys.readouterr().err.endswith("error: --read-dataset not allowed with --read-file-only\n")
    app.check_conflict("--a", "--b", False)
    app.check_dependence("--a", "--b", True)


def test_logger_prefixes_and_levels(capsys):
    log = cl.Logger()
    log.trace("t")
    log.debug("d")
    log.info("i")
    log.warn("w")
    log.error("e %s", 1)
    log.fatal("f\nsecond\n")
    assert capsys.readouterr().err == "W: w\nE: e 1\nF: f\nF: second\nF: \n"
    log.level = cl.TRACE
    log.trace("%d%%", 5)
    log.debug("d")
    log.info("i")
    assert capsys.readouterr().err == "T: 5%\nD: d\nI: i\n"
    log.level = cl.OFF
    log.fatal("nothing")
    assert capsys.readouterr().err == ""
    assert cl.Logger(cl.INFO).enabled(cl.WARN) and not cl.Logger(cl.INFO).enabled(cl.DEBUG)

    class Boom:
        def __str__(self):  # formatting is skipped when the level filters the message
            raise AssertionError("formatted")

    cl.Logger(cl.WARN).debug("%s", Boom())


# --- run -------------------------------------------------------------------------------------


def test_run_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        cl.run(lambda: None)
    assert info.value.code == 0
    with pytest.raises(SystemExit) as info:
        cl.run(lambda a, b: a + b, 20, 3)
    assert info.value.code == 23

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as info:
        cl.run(interrupted)
    assert info.value.code == 130 and capsys.readouterr().err == ""

    def exits():
        sys.exit(21)

    with pytest.raises(SystemExit) as info:
        cl.run(exits)
    assert info.value.code == 21


def test_run_turns_exception_into_one_line(capsys):
    def broken():
        raise KeyError("multi\nline")

    with pytest.raises(SystemExit) as info:
        cl.run(broken, name="dcmdump")
    assert info.value.code == cl.EXITCODE_INTERNAL_ERROR != 0
    assert capsys.readouterr().err == "F: dcmdump: internal error: KeyError: 'multi\\nline'\n"
    cl.log.level = cl.DEBUG
    with pytest.raises(SystemExit):
        cl.run(broken, name="dcmdump")
    err = capsys.readouterr().err
    assert err.startswith("F: dcmdump: internal error:") and "Traceback" in err


def test_tool_process_never_prints_traceback(tmp_path):
    script = tmp_path / "tool.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(cl.__file__).parent.parent)!r})\n"
        f"from {cl.__name__} import App, run\n"
        "app = App('mytool', 'Test tool')\n"
        "app.param('n', 'a number')\n"
        "def main():\n"
        "    opts = app.parse()\n"
        "    if opts.n == 'big':\n"
        "        for _ in range(1000):\n"
        "            sys.stdout.write('x' * 10000)\n"
        "        return 0\n"
        "    return 1 // int(opts.n)\n"
        "run(main)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, str(script), "0"], capture_output=True, text=True, env=env)
    assert proc.returncode == cl.EXITCODE_INTERNAL_ERROR
    assert proc.stderr == "F: tool.py: internal error: ZeroDivisionError: integer division or modulo by zero\n"
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("$dcmpy: mytool")
    proc = subprocess.run(f"'{sys.executable}' '{script}' big | head -c 10", shell=True,
                          capture_output=True, text=True, env=env)
    assert proc.stdout == "x" * 10 and proc.stderr == ""


def test_import_is_cheap():
    """The module pulls in nothing beyond what Python itself loads at start-up."""
    code = ("import sys, importlib.util as u; before = set(sys.modules); "
            f"s = u.spec_from_file_location('_cmdline', {cl.__file__!r}); "
            "s.loader.exec_module(u.module_from_spec(s)); "
            "print(sorted(set(sys.modules) - before))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() in ("[]", "['__future__']")
