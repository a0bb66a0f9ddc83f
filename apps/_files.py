"""Input options shared by the dcmdata apps (DCMTK's dcmdata/include/dcmtk/dcmdata/cmdlnarg + dcmdump/dcmconv blocks)."""
from __future__ import annotations

import fnmatch
import os

from dcmpy.apps._cmdline import App, Int, Options, log

READ_TS = {
    "little": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2", "implicit": "1.2.840.10008.1.2",
}
WRITE_TS = {**READ_TS, "deflated": "1.2.840.10008.1.2.1.99"}


def add_input_format(app: App, *, transfer_syntax: bool = True) -> None:
    """'input file format' (+f +fo -f) and, with ``transfer_syntax``, 'input transfer syntax'."""
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)",
               dest="read_mode", const="auto", default="auto")
    app.option("+fo", "--read-file-only", "read file format only", dest="read_mode",
               const="file-only")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    if transfer_syntax:
        add_read_xfer(app)


def add_read_xfer(app: App) -> None:
    """'input transfer syntax' (-t= -td -te -tb -ti), read through ``READ_TS``."""
    app.subgroup("input transfer syntax:")
    app.option("-t=", "--read-xfer-auto", "use TS recognition (default)", dest="read_xfer",
               const="auto", default="auto")
    app.option("-td", "--read-xfer-detect", "ignore TS specified in the file meta header",
               dest="read_xfer", const="detect")
    app.option("-te", "--read-xfer-little", "read with explicit VR little endian TS",
               dest="read_xfer", const="little")
    app.option("-tb", "--read-xfer-big", "read with explicit VR big endian TS", dest="read_xfer",
               const="big")
    app.option("-ti", "--read-xfer-implicit", "read with implicit VR little endian TS",
               dest="read_xfer", const="implicit")


def add_read_meta(app: App) -> None:
    """'input file format' of the text-to-DICOM tools (dump2dcm, json2dcm, xml2dcm): +f -f."""
    app.subgroup("input file format:")
    app.option("+f", "--read-meta-info", "read meta information if present (default)",
               dest="read_meta", default=True)
    app.option("-f", "--ignore-meta-info", "ignore file meta information", dest="read_meta",
               const=False)


def add_write_xfer(app: App, *, same: bool = True,
                   little: str = "write with explicit VR little endian TS",
                   deflated: str | None = "write with deflated expl. VR little endian TS") -> None:
    """'output transfer syntax', read through ``WRITE_TS``: +t= (with ``same``, the default;
    otherwise +te is), +te +tb +ti, and +td unless ``deflated`` is None. The texts are the
    tool's own DCMTK wording."""
    app.subgroup("output transfer syntax:")
    if same:
        app.option("+t=", "--write-xfer-same", "write with same TS as input (default)",
                   dest="write_xfer", const=None)
    app.option("+te", "--write-xfer-little", little, dest="write_xfer", const="little",
               **({} if same else {"default": "little"}))
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS",
               dest="write_xfer", const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    if deflated is not None:
        app.option("+td", "--write-xfer-deflated", deflated, dest="write_xfer",
                   const="deflated")


def add_input_options(app: App, *, scan_dirs: bool = True, long_values: bool = True) -> None:
    """The 'input options' block of dcmdump/dcmconv: file format, syntax, files, parser."""
    app.group("input options:")
    add_input_format(app)
    if scan_dirs:
        app.subgroup("input files:")
        app.option("+sd", "--scan-directories", "scan directories for input files (dcmfile-in)",
                   dest="scan_dirs")
        app.option("+sp", "--scan-pattern", "pattern for filename matching (wildcards)",
                   value="[p]attern: string (only with --scan-directories)", dest="scan_pattern")
        app.option("-r", "--no-recurse", "do not recurse within directories (default)",
                   dest="recurse", const=False)
        app.option("+r", "--recurse", "recurse within specified directories", dest="recurse")
    if long_values:
        app.subgroup("long tag values:")
        app.option("+M", "--load-all", "load very long tag values (default)", dest="load_mode",
                   const="all", default="all")
        app.option("-M", "--load-short", "do not load very long values (e.g. pixel data)",
                   dest="load_mode", const="short")
        app.option("+R", "--max-read-length", "set threshold for long values to k kbytes",
                   value="[k]bytes: integer (4..4194302, default: 4)", type=Int(4, 4194302),
                   dest="max_read_length", default=4)
    _parser_options(app)


def add_output_encoding(app: App, *, lengths: tuple[str, str] = ("+e", "-e"),
                        oversized: bool = False, padding: str = "dataset",
                        retain_note: bool = True, padding_default: str = "retain",
                        item_unit: str = "bytes") -> None:
    """The output encoding blocks the dcmdata tools share: post-1993 VRs, group lengths, item
    lengths and trailing padding, worded per tool as DCMTK words them.

    ``padding`` is "dataset" when the tool can also write a bare data set (padding is then
    off) and "file" when it cannot; ``oversized`` adds dcmconv's +eo/-eo; ``retain_note``,
    ``padding_default`` and ``item_unit`` follow the tool's own help text (dcmcjpls says
    "i byte")."""
    app.subgroup("post-1993 value representations:")
    app.option("+u", "--enable-new-vr", "enable support for new VRs (UN/UT) (default)",
               dest="new_vrs", default=True)
    app.option("-u", "--disable-new-vr", "disable support for new VRs, convert to OB",
               dest="new_vrs", const=False)
    app.subgroup("group length encoding:")
    app.option("+g=", "--group-length-recalc", "recalculate group lengths if present (default)",
               dest="group_lengths", const="recalc", default="recalc")
    app.option("+g", "--group-length-create", "always write with group length elements",
               dest="group_lengths", const="add")
    app.option("-g", "--group-length-remove", "always write without group length elements",
               dest="group_lengths", const="remove")
    app.subgroup("length encoding in sequences and items:")
    app.option(lengths[0], "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option(lengths[1], "--length-undefined", "write with undefined lengths",
               dest="explicit_lengths", const=False)
    if oversized:
        app.option("+eo", "--write-oversized", "write oversized explicit length sequences\n"
                   "and items with undefined length (default)", dest="oversized", default=True)
        app.option("-eo", "--abort-oversized", "abort on oversized explicit sequences/items",
                   dest="oversized", const=False)
    bare = padding == "dataset"
    app.subgroup("data set trailing padding (not with --write-dataset):" if bare
                 else "data set trailing padding:")
    retain = ("do not change padding\n(default if not --write-dataset)" if bare and retain_note
              else "do not change padding (default)")
    app.option("-p=", "--padding-retain", retain, dest="padding", const="retain",
               default=padding_default)
    app.option("-p", "--padding-off", "no padding (implicit if --write-dataset)" if bare
               else "no padding", dest="padding", const="off")
    app.option("+p", "--padding-create", "align file on multiple of f bytes\n"
               f"and items on multiple of i {item_unit}", value="[f]ile-pad [i]tem-pad: integer",
               nargs=2, type=(Int(0), Int(0)), dest="padding")


def _flag_pair(app: App, dest: str, first: tuple[str, str, str], second: tuple[str, str, str],
               first_value: bool) -> None:
    """Two options of one subgroup setting ``dest``; the one marked '(default)' sets the default."""
    default = first_value if "(default)" in first[2] else not first_value
    app.option(*first, dest=dest, const=first_value, default=default)
    app.option(*second, dest=dest, const=not first_value)


def _parser_options(app: App) -> None:
    sub = app.subgroup
    sub("parsing of file meta information:")
    _flag_pair(app, "use_meta_length",
               ("+ml", "--use-meta-length", "use file meta information group length (default)"),
               ("-ml", "--ignore-meta-length", "ignore file meta information group length"), True)
    add_odd_length(app)
    sub("handling of explicit VR:")
    _flag_pair(app, "use_explicit_vr",
               ("+ev", "--use-explicit-vr", "use explicit VR from dataset (default)"),
               ("-ev", "--ignore-explicit-vr", "ignore explicit VR (prefer data dictionary)"), True)
    sub("handling of non-standard VR:")
    _flag_pair(app, "nonstandard_vr_implicit",
               ("+vr", "--treat-as-unknown", "treat non-standard VR as unknown (default)"),
               ("-vr", "--assume-implicit", "try to read with implicit VR little endian TS"), False)
    add_un_handling(app)
    # +sq is what the scanner always does: a private element of undefined length read with
    # implicit VR is a sequence (DCMTK's default -sq would reject one whose private dictionary
    # VR is not SQ; the scanner does not consult the private dictionary)
    sub("handling of private max-length elements (implicit VR):")
    _flag_pair(app, "maxlength_seq",
               ("-sq", "--maxlength-dict", "read as defined in dictionary (default)"),
               ("+sq", "--maxlength-seq", "read as sequence with undefined length"), False)
    sub("handling of wrong delimitation items:")
    _flag_pair(app, "replace_delim",
               ("-rd", "--use-delim-items", "use delimitation items from dataset (default)"),
               ("+rd", "--replace-wrong-delim", "replace wrong sequence/item delimitation items"), False)
    sub("handling of illegal undefined length OB/OW elements:")
    _flag_pair(app, "illegal_obow_conv",
               ("-oi", "--illegal-obow-rej", "reject dataset with illegal element (default)"),
               ("+oi", "--illegal-obow-conv", "convert undefined length OB/OW element to SQ"), False)
    sub("handling of VOI LUT Sequence with OW VR and explicit length:")
    _flag_pair(app, "illegal_voi_conv",
               ("-vi", "--illegal-voi-rej", "reject dataset with illegal VOI LUT (default)"),
               ("+vi", "--illegal-voi-conv", "convert illegal VOI LUT to SQ"), False)
    sub("handling of explicit length pixel data for encaps. transfer syntaxes:")
    _flag_pair(app, "use_expl_pixdata",
               ("-pe", "--abort-expl-pixdata", "abort on explicit length pixel data (default)"),
               ("+pe", "--use-expl-pixdata", "use explicit length pixel data"), False)
    sub("general handling of parser errors: ")
    _flag_pair(app, "ignore_parse_errors",
               ("+Ep", "--ignore-parse-errors", "try to recover from parse errors"),
               ("-Ep", "--handle-parse-errors", "handle parse errors and stop parsing (default)"),
               True)
    sub("other parsing options:")
    app.option("+st", "--stop-after-elem", "stop parsing after element specified by t",
               value='[t]ag: "gggg,eeee" or dictionary name', dest="stop_after")
    app.option("+sb", "--stop-before-elem", "stop parsing before element specified by t",
               value='[t]ag: "gggg,eeee" or dictionary name', dest="stop_before")
    add_correction_and_deflate(app)


def add_odd_length(app: App) -> None:
    """'parsing of odd-length attributes' (+ao +ae)."""
    app.subgroup("parsing of odd-length attributes:")
    _flag_pair(app, "odd_length_even",
               ("+ao", "--accept-odd-length", "accept odd length attributes (default)"),
               ("+ae", "--assume-even-length", "assume real length is one byte larger"), False)


def add_un_handling(app: App) -> None:
    """The two 'handling of ... UN elements' subgroups (+ui -ui, -uc +uc)."""
    app.subgroup("handling of undefined length UN elements:")
    _flag_pair(app, "cp246",
               ("+ui", "--enable-cp246", "read undefined len UN as implicit VR (default)"),
               ("-ui", "--disable-cp246", "read undefined len UN as explicit VR"), True)
    app.subgroup("handling of defined length UN elements:")
    _flag_pair(app, "convert_un",
               ("-uc", "--retain-un", "retain elements as UN (default)"),
               ("+uc", "--convert-un", "convert to real VR if known"), False)


def add_correction_and_deflate(app: App) -> None:
    """'automatic data correction' (+dc -dc) and 'bitstream format of deflated input' (+bd +bz)."""
    app.subgroup("automatic data correction:")
    _flag_pair(app, "data_correction",
               ("+dc", "--enable-correction", "enable automatic data correction (default)"),
               ("-dc", "--disable-correction", "disable automatic data correction"), True)
    app.subgroup("bitstream format of deflated input:")
    app.option("+bd", "--bitstream-deflated", "expect deflated bitstream (default)",
               dest="zlib_input", const=False, default=False)
    app.option("+bz", "--bitstream-zlib", "expect deflated zlib bitstream", dest="zlib_input")


def read_options_from(opts: Options):
    """The library's ReadOptions for the parsed input options."""
    from dcmpy.dcmdata.reader import ReadOptions
    from dcmpy.dcmdata.tag import parse_tag

    def tag_of(text: str | None) -> int | None:
        if text is None:
            return None
        tag = parse_tag(text)
        if tag is None:
            raise SystemExit(_bad_tag(text))
        return tag

    xfer = opts.read_xfer
    return ReadOptions(
        read_mode=opts.read_mode,
        transfer_syntax=READ_TS.get(xfer),
        ignore_meta_syntax=xfer == "detect",
        stop_before=tag_of(opts.stop_before),
        stop_after=tag_of(opts.stop_after),
        cp246=opts.cp246,
        assume_even_length=opts.odd_length_even,
        ignore_explicit_vr=not opts.use_explicit_vr,
        use_meta_length=opts.use_meta_length,
        convert_un=opts.convert_un,
        illegal_obow_as_sequence=opts.illegal_obow_conv,
        illegal_voi_as_sequence=opts.illegal_voi_conv,
        replace_wrong_delimiters=opts.replace_delim,
        nonstandard_vr_implicit=opts.nonstandard_vr_implicit,
        explicit_length_pixels=opts.use_expl_pixdata,
        ignore_parse_errors=opts.ignore_parse_errors,
        zlib_deflate=opts.zlib_input,
        data_correction=opts.data_correction,
    )


def _bad_tag(text: str) -> int:
    log.error("unrecognized tag name: '%s'", text)
    return 1


def collect_input_files(opts: Options, tool: str) -> list[str]:
    """The files named on the command line, with directories expanded under +sd (+r, +sp)."""
    names = opts.dcmfile_in if isinstance(opts.dcmfile_in, list) else [opts.dcmfile_in]
    files: list[str] = []
    for name in names:
        if not os.path.isdir(name):
            files.append(name)
            continue
        if not getattr(opts, "scan_dirs", False):
            log.warn("ignoring directory because option --scan-directories is not set: %s", name)
            continue
        files.extend(_scan_directory(name, bool(opts.recurse), opts.scan_pattern))
    return files


def _scan_directory(root: str, recurse: bool, pattern: str | None) -> list[str]:
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            if pattern is None or fnmatch.fnmatch(name, pattern):
                found.append(os.path.join(folder, name))
        if not recurse:
            break
    return found
