"""What the compression tools share (dcmcrle/dcmdrle and the JPEG/JPEG-LS pairs): their option
blocks, and reading, converting and writing one file with DCMTK's messages and exit codes."""
from __future__ import annotations

from typing import Callable

from dcmpy.apps._cmdline import App, Int, Options, log

_READ_TS = {"little": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2",
            "implicit": "1.2.840.10008.1.2"}
WRITE_TS = {"little": "1.2.840.10008.1.2.1", "big": "1.2.840.10008.1.2.2",
            "implicit": "1.2.840.10008.1.2"}


def add_input_format(app: App, *, transfer_syntax: bool) -> None:
    app.group("input options:")
    app.subgroup("input file format:")
    app.option("+f", "--read-file", "read file format or data set (default)",
               dest="read_mode", const="auto", default="auto")
    app.option("+fo", "--read-file-only", "read file format only", dest="read_mode",
               const="file-only")
    app.option("-f", "--read-dataset", "read data set without file meta information",
               dest="read_mode", const="dataset")
    if not transfer_syntax:
        return
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


def add_encapsulation_options(app: App, *, uid_default_lossy: bool = False) -> None:
    """Fragmentation, offset table, SOP Class and SOP Instance UID (the compressors).

    ``uid_default_lossy``: the JPEG tools' three UID choices (a new UID for lossy output by
    default, ``new_uid`` 'default'/'always'/'never'), else dcmcrle's two (a bool)."""
    app.subgroup("pixel data fragmentation:")
    app.option("+ff", "--fragment-per-frame", "encode each frame as one fragment (default)",
               dest="fragment_kb", const=None, default=None)
    app.option("+fs", "--fragment-size", "limit fragment size to s kbytes"
               + ("" if uid_default_lossy else " (non-standard)"),
               value="[s]ize: integer", type=Int(1), dest="fragment_kb")
    app.subgroup("basic offset table encoding:")
    app.option("+ot", "--offset-table-create", "create offset table (default)",
               dest="offset_table", default=True)
    app.option("-ot", "--offset-table-empty", "leave offset table empty", dest="offset_table",
               const=False)
    app.subgroup("SOP Class UID:")
    app.option("+cd", "--class-default", "keep SOP Class UID (default)", dest="to_sc",
               const=False, default=False)
    app.option("+cs", "--class-sc", "convert to Secondary Capture Image\n(implies --uid-always)",
               dest="to_sc")
    app.subgroup("SOP Instance UID:")
    if uid_default_lossy:
        app.option("+ud", "--uid-default", "assign new UID if lossy compression (default)",
                   dest="new_uid", const="default", default="default")
        app.option("+ua", "--uid-always", "always assign new UID", dest="new_uid",
                   const="always")
        app.option("+un", "--uid-never", "never assign new UID", dest="new_uid", const="never")
        return
    app.option("+un", "--uid-never", "never assign new UID (default)", dest="new_uid",
               const=False, default=False)
    app.option("+ua", "--uid-always", "always assign new UID", dest="new_uid")


def add_output_encoding(app: App, *, dataset_padding: bool, retain_note: bool = True,
                        item_unit: str = "bytes") -> None:
    """VRs, group lengths, lengths and padding of the output (``dataset_padding``: the tool
    can write a bare data set, and padding is then off; the help's wording varies by tool
    as DCMTK's does, down to dcmcjpls' "i byte")."""
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
    app.option("+e", "--length-explicit", "write with explicit lengths (default)",
               dest="explicit_lengths", default=True)
    app.option("-e", "--length-undefined", "write with undefined lengths",
               dest="explicit_lengths", const=False)
    if dataset_padding:
        app.subgroup("data set trailing padding (not with --write-dataset):")
        retain = ("do not change padding\n(default if not --write-dataset)" if retain_note
                  else "do not change padding (default)")
    else:
        app.subgroup("data set trailing padding:")
        retain = "do not change padding (default)"
    app.option("-p=", "--padding-retain", retain, dest="padding", const="retain",
               default="retain")
    app.option("-p", "--padding-off", "no padding (implicit if --write-dataset)"
               if dataset_padding else "no padding", dest="padding", const="off")
    app.option("+p", "--padding-create", "align file on multiple of f bytes\n"
               f"and items on multiple of i {item_unit}", value="[f]ile-pad [i]tem-pad: integer",
               nargs=2, type=(Int(0), Int(0)), dest="padding")


def add_decompressed_output(app: App, *, padding_default_note: bool = True) -> None:
    """The output options of the decompressors: file format, syntax and encoding."""
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta",
               default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    app.subgroup("output transfer syntax:")
    app.option("+te", "--write-xfer-little", "write with explicit VR little endian (default)",
               dest="write_xfer", const="little", default="little")
    app.option("+tb", "--write-xfer-big", "write with explicit VR big endian TS",
               dest="write_xfer", const="big")
    app.option("+ti", "--write-xfer-implicit", "write with implicit VR little endian TS",
               dest="write_xfer", const="implicit")
    add_output_encoding(app, dataset_padding=True, retain_note=padding_default_note)


def parse_decompressor(app: App, argv: list[str] | None) -> Options:
    opts = app.parse(argv)
    app.check_conflict("--padding-create", "--write-dataset",
                       not opts.write_meta and isinstance(opts.padding, tuple))
    return opts


def add_uid_options(app: App, heading: str = "SOP Instance UID:") -> None:
    app.subgroup(heading)
    app.option("+ud", "--uid-default", "keep same SOP Instance UID (default)", dest="new_uid",
               const=False, default=False)
    app.option("+ua", "--uid-always", "always assign new UID", dest="new_uid")


def convert_file(opts: Options, process: Callable, out_ts: str | None,
                 write_meta: bool = True, new_meta: bool = False,
                 action: str = "decompressing file") -> int:
    """Read ``opts.dcmfile_in``, call ``process(ds)``, write ``opts.dcmfile_out`` in
    ``out_ts`` (``new_meta``: without the optional meta elements, as DCMTK's JPEG and JPEG-LS
    decoders write); log DCMTK's verbose lines and its fatal errors; return the exit code."""
    from dcmpy.dcmdata.pixels import PixelDataError
    from dcmpy.dcmdata.reader import DicomError, ReadOptions, dcmread
    from dcmpy.dcmdata.writer import DicomWriteError, WriteOptions, dcmwrite

    xfer = getattr(opts, "read_xfer", "auto")
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=_READ_TS.get(xfer),
                       ignore_meta_syntax=xfer == "detect")
    log.info("open input file %s", opts.dcmfile_in)
    try:
        ds = dcmread(opts.dcmfile_in, read)
    except OSError as exc:
        log.fatal("%s: reading file: %s", exc.strerror or exc, opts.dcmfile_in)
        return 1
    except DicomError as exc:
        log.fatal("%s: reading file: %s", exc, opts.dcmfile_in)
        return 1
    try:
        process(ds)
    except PixelDataError as exc:
        log.fatal("%s: %s: %s", exc, action, opts.dcmfile_in)
        return 1
    write = WriteOptions(transfer_syntax=out_ts, write_meta=write_meta, new_meta=new_meta,
                         group_lengths=opts.group_lengths,
                         explicit_lengths=opts.explicit_lengths, new_vrs=opts.new_vrs,
                         padding=opts.padding, correct_strings=True)
    log.info("create output file %s", opts.dcmfile_out)
    try:
        dcmwrite(opts.dcmfile_out, ds, write)
    except DicomWriteError as exc:
        log.fatal("%s: writing file: %s", exc, opts.dcmfile_out)
        return 1
    except OSError as exc:
        log.fatal("%s: writing file: %s", exc.strerror or exc, opts.dcmfile_out)
        return 1
    log.info("conversion successful")
    return 0


def to_secondary_capture(ds) -> None:
    """``+cs``: make the image a Secondary Capture Image (a new SOP Instance UID follows)."""
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    if hasattr(ds, "file_meta") and 0x00020002 in ds.file_meta:
        ds.file_meta[0x00020002].value = ds.SOPClassUID
    if "ConversionType" not in ds:
        ds.ConversionType = "WSD"
    if "PatientOrientation" not in ds:
        ds.PatientOrientation = ""


UNCOMPRESSED_PREDECESSOR = ("121320", "DCM", "Uncompressed predecessor")
