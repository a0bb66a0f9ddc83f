"""What the compression tools share (dcmcrle/dcmdrle and the JPEG/JPEG-LS pairs): their option
blocks, and reading, converting and writing one file with DCMTK's messages and exit codes."""
from __future__ import annotations

from typing import Callable

from dcmpy.apps._cmdline import App, Int, Options, log
from dcmpy.apps._files import READ_TS, add_output_encoding, add_write_xfer



def add_colour_conversion(app: App, heading: str, never: str) -> None:
    """DCMTK's JPEG colour conversion choices (+cp +cl +cg +cgl +ca +cn), as dcmdjpeg,
    dcmcjpeg and dcmj2pnm word them (``heading``, and the ``never`` text of +cn)."""
    app.subgroup(heading)
    for short, long, text, mode in (
            ("+cp", "--conv-photometric", "convert if YCbCr photometric interpr. (default)",
             "photometric"),
            ("+cl", "--conv-lossy", "convert YCbCr to RGB if lossy JPEG", "lossy"),
            ("+cg", "--conv-guess", "convert to RGB if YCbCr is guessed by library", "guess"),
            ("+cgl", "--conv-guess-lossy", "convert to RGB if lossy JPEG and YCbCr is\n"
             "guessed by the underlying JPEG library", "guess-lossy"),
            ("+ca", "--conv-always", "always convert YCbCr to RGB", "always"),
            ("+cn", "--conv-never", never, "never")):
        app.option(short, long, text, dest="conversion", const=mode, default="photometric")


def add_jpeg_workarounds(app: App, heading: str) -> None:
    """DCMTK's workarounds for broken JPEG encodings (+w6 +wi +wc)."""
    app.subgroup(heading)
    app.option("+w6", "--workaround-pred6", "enable workaround for JPEG lossless images\n"
               "with overflow in predictor 6", dest="workaround_pred6")
    app.option("+wi", "--workaround-incpl", "enable workaround for incomplete JPEG data",
               dest="workaround_incomplete")
    app.option("+wc", "--workaround-cornell", "enable workaround for 16-bit JPEG lossless\n"
               "Cornell images with Huffman table overflow", dest="workaround_cornell")


def add_encapsulation_options(app: App, *, uid_default_lossy: bool = False,
                              before_uid: Callable[[App], None] | None = None) -> None:
    """Fragmentation, offset table, SOP Class and SOP Instance UID (the compressors).

    ``uid_default_lossy``: the JPEG tools' three UID choices (a new UID for lossy output by
    default, ``new_uid`` 'default'/'always'/'never'), else dcmcrle's two (a bool).
    ``before_uid`` adds a tool's own subgroups after the offset table ones (dcmcjpeg)."""
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
    if before_uid is not None:
        before_uid(app)
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


def add_decompressed_output(app: App, *, padding_default_note: bool = True) -> None:
    """The output options of the decompressors: file format, syntax and encoding."""
    app.group("output options:")
    app.subgroup("output file format:")
    app.option("+F", "--write-file", "write file format (default)", dest="write_meta",
               default=True)
    app.option("-F", "--write-dataset", "write data set without file meta information",
               dest="write_meta", const=False)
    add_write_xfer(app, same=False, little="write with explicit VR little endian (default)",
                   deflated=None)
    add_output_encoding(app, retain_note=padding_default_note)


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
    read = ReadOptions(read_mode=opts.read_mode, transfer_syntax=READ_TS.get(xfer),
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
